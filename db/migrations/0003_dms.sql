CREATE TABLE `dm_index` (
	`position` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`id` text NOT NULL,
	`conversation` text NOT NULL,
	`sender` text NOT NULL,
	`recipient` text NOT NULL,
	`published` text NOT NULL,
	`envelope` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `dm_index_id` ON `dm_index` (`id`);--> statement-breakpoint
CREATE INDEX `dm_index_conversation` ON `dm_index` (`conversation`,`position`);--> statement-breakpoint
CREATE INDEX `dm_index_sender` ON `dm_index` (`sender`,`conversation`);--> statement-breakpoint
CREATE INDEX `dm_index_recipient` ON `dm_index` (`recipient`,`conversation`);--> statement-breakpoint
CREATE TABLE `dm_reads` (
	`conversation` text NOT NULL,
	`did` text NOT NULL,
	`position` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `dm_reads_key` ON `dm_reads` (`conversation`,`did`);