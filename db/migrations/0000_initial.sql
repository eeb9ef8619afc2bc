CREATE TABLE `challenges` (
	`nonce` text PRIMARY KEY NOT NULL,
	`domain` text NOT NULL,
	`expires_at` integer NOT NULL,
	`used_at` integer
);
--> statement-breakpoint
CREATE TABLE `instance_state` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `message_index` (
	`id` text PRIMARY KEY NOT NULL,
	`channel` text NOT NULL,
	`lamport` integer NOT NULL,
	`author` text NOT NULL,
	`content` text NOT NULL,
	`published` text NOT NULL,
	`updated` text,
	`deleted` integer DEFAULT false NOT NULL,
	`revision` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `message_index_order` ON `message_index` (`channel`,`lamport`,`author`,`id`);--> statement-breakpoint
CREATE INDEX `message_index_changes` ON `message_index` (`channel`,`revision`);--> statement-breakpoint
CREATE TABLE `quads` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`graph` text NOT NULL,
	`subject` text NOT NULL,
	`predicate` text NOT NULL,
	`object` text NOT NULL,
	`object_kind` integer NOT NULL,
	`datatype` text DEFAULT '' NOT NULL,
	`language` text DEFAULT '' NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `quads_spog` ON `quads` (`subject`,`predicate`,`object`,`object_kind`,`datatype`,`language`,`graph`);--> statement-breakpoint
CREATE INDEX `quads_pos` ON `quads` (`predicate`,`object`) WHERE "quads"."object_kind" = 0;--> statement-breakpoint
CREATE INDEX `quads_graph` ON `quads` (`graph`);--> statement-breakpoint
CREATE TABLE `sessions` (
	`token_hash` text PRIMARY KEY NOT NULL,
	`did` text NOT NULL,
	`csrf_token` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `sessions_did` ON `sessions` (`did`);