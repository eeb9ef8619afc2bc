CREATE TABLE `mention_reads` (
	`member` text NOT NULL,
	`message` text NOT NULL,
	`at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `mention_reads_member_message` ON `mention_reads` (`member`,`message`);--> statement-breakpoint
CREATE TABLE `mentions` (
	`message` text NOT NULL,
	`target` text NOT NULL,
	`channel` text NOT NULL,
	`author` text NOT NULL,
	`lamport` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `mentions_message_target` ON `mentions` (`message`,`target`);--> statement-breakpoint
CREATE INDEX `mentions_target` ON `mentions` (`target`,`channel`,`lamport`);--> statement-breakpoint
CREATE TABLE `read_markers` (
	`member` text NOT NULL,
	`channel` text NOT NULL,
	`lamport` integer NOT NULL,
	`updated` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `read_markers_member_channel` ON `read_markers` (`member`,`channel`);