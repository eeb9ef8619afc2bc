CREATE TABLE `files` (
	`id` text PRIMARY KEY NOT NULL,
	`storage_key` text NOT NULL,
	`channel` text NOT NULL,
	`uploader` text NOT NULL,
	`name` text NOT NULL,
	`media_type` text NOT NULL,
	`size` integer NOT NULL,
	`digest` text NOT NULL,
	`width` integer,
	`height` integer,
	`wrapped_key` text NOT NULL,
	`kek_id` text NOT NULL,
	`created` integer NOT NULL,
	`message` text,
	`attached_at` integer
);
--> statement-breakpoint
CREATE INDEX `files_message` ON `files` (`message`,`created`);--> statement-breakpoint
CREATE INDEX `files_uploader` ON `files` (`uploader`,`message`);--> statement-breakpoint
ALTER TABLE `message_index` ADD `attachments` text;