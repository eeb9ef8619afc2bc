CREATE TABLE `pairing_lookups` (
	`key` text PRIMARY KEY NOT NULL,
	`window_start` integer NOT NULL,
	`count` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `pairing_lookups_window` ON `pairing_lookups` (`window_start`);--> statement-breakpoint
CREATE TABLE `pairings` (
	`code_hash` text PRIMARY KEY NOT NULL,
	`requester` text NOT NULL,
	`expires` integer NOT NULL,
	`state` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `pairings_requester` ON `pairings` (`requester`);--> statement-breakpoint
CREATE INDEX `pairings_expires` ON `pairings` (`expires`);--> statement-breakpoint
-- Pairings used to wait in instance_state; they live five minutes, so those left over are dropped.
DELETE FROM `instance_state` WHERE `key` LIKE 'pairing:%';
