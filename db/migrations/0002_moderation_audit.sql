CREATE TABLE `audit_log` (
	`seq` integer PRIMARY KEY NOT NULL,
	`hash` text NOT NULL,
	`prev_hash` text NOT NULL,
	`action` text NOT NULL,
	`target` text NOT NULL,
	`actor` text NOT NULL,
	`capability` text,
	`at` text NOT NULL,
	`arguments` text,
	`evidence` text NOT NULL,
	`evidence_key` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `audit_log_evidence` ON `audit_log` (`evidence_key`);--> statement-breakpoint
CREATE TABLE `did_first_seen` (
	`did` text PRIMARY KEY NOT NULL,
	`first_seen` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `join_log` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`did` text NOT NULL,
	`at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `join_log_at` ON `join_log` (`at`);--> statement-breakpoint
CREATE TABLE `rate_windows` (
	`key` text PRIMARY KEY NOT NULL,
	`window_start` integer NOT NULL,
	`count` integer NOT NULL
);
