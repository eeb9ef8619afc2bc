CREATE TABLE `bridge_refusals` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`peer` text NOT NULL,
	`channel` text NOT NULL,
	`via` text NOT NULL,
	`kind` text NOT NULL,
	`op_id` text NOT NULL,
	`origin` text NOT NULL,
	`code` text NOT NULL,
	`reason` text NOT NULL,
	`first` integer NOT NULL,
	`last` integer NOT NULL,
	`count` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `bridge_refusals_key` ON `bridge_refusals` (`peer`,`op_id`,`code`);--> statement-breakpoint
CREATE INDEX `bridge_refusals_last` ON `bridge_refusals` (`last`);--> statement-breakpoint
CREATE TABLE `bridge_relays` (
	`channel` text NOT NULL,
	`foreign_channel` text NOT NULL,
	`path` text NOT NULL,
	`updated` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `bridge_relays_channel` ON `bridge_relays` (`channel`,`foreign_channel`);--> statement-breakpoint
ALTER TABLE `op_log` ADD `authority` text;