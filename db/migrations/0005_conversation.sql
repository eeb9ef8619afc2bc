CREATE TABLE `pins` (
	`message` text PRIMARY KEY NOT NULL,
	`channel` text NOT NULL,
	`pinned` integer NOT NULL,
	`actor` text NOT NULL,
	`at` text NOT NULL,
	`lamport` integer NOT NULL,
	`op_id` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `pins_channel` ON `pins` (`channel`,`pinned`,`lamport`);--> statement-breakpoint
CREATE TABLE `reactions` (
	`op_id` text PRIMARY KEY NOT NULL,
	`message` text NOT NULL,
	`channel` text NOT NULL,
	`actor` text NOT NULL,
	`emoji` text NOT NULL,
	`lamport` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `reactions_message` ON `reactions` (`message`,`emoji`,`actor`,`lamport`);--> statement-breakpoint
CREATE INDEX `reactions_actor` ON `reactions` (`actor`,`message`);--> statement-breakpoint
CREATE TABLE `thread_reads` (
	`member` text NOT NULL,
	`root` text NOT NULL,
	`lamport` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `thread_reads_member_root` ON `thread_reads` (`member`,`root`);--> statement-breakpoint
ALTER TABLE `message_index` ADD `in_reply_to` text;--> statement-breakpoint
ALTER TABLE `message_index` ADD `thread_root` text;--> statement-breakpoint
CREATE INDEX `message_index_thread` ON `message_index` (`thread_root`,`lamport`);