CREATE TABLE `search_docs` (
	`key` integer PRIMARY KEY NOT NULL,
	`message_id` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `search_docs_message_id_unique` ON `search_docs` (`message_id`);