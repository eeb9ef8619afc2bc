CREATE TABLE `actor_keys` (
	`actor` text NOT NULL,
	`algorithm` text NOT NULL,
	`private_jwk` text NOT NULL,
	`public_jwk` text NOT NULL,
	`created` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `actor_keys_actor_algorithm` ON `actor_keys` (`actor`,`algorithm`);--> statement-breakpoint
CREATE TABLE `challenges` (
	`nonce` text PRIMARY KEY NOT NULL,
	`domain` text NOT NULL,
	`expires_at` integer NOT NULL,
	`used_at` integer
);
--> statement-breakpoint
CREATE TABLE `delivery_cursors` (
	`stream` text PRIMARY KEY NOT NULL,
	`position` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `federation_kv` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL,
	`expires` integer
);
--> statement-breakpoint
CREATE INDEX `federation_kv_expires` ON `federation_kv` (`expires`);--> statement-breakpoint
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
	`edit_lamport` integer,
	`edit_op` text,
	`deleted` integer DEFAULT false NOT NULL,
	`revision` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `message_index_order` ON `message_index` (`channel`,`lamport`,`author`,`id`);--> statement-breakpoint
CREATE INDEX `message_index_changes` ON `message_index` (`channel`,`revision`);--> statement-breakpoint
CREATE TABLE `op_log` (
	`position` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`id` text NOT NULL,
	`channel` text NOT NULL,
	`origin` text NOT NULL,
	`seq` integer NOT NULL,
	`lamport` integer NOT NULL,
	`kind` text NOT NULL,
	`target` text NOT NULL,
	`actor` text NOT NULL,
	`document` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `op_log_id` ON `op_log` (`id`);--> statement-breakpoint
CREATE UNIQUE INDEX `op_log_origin_seq` ON `op_log` (`channel`,`origin`,`seq`);--> statement-breakpoint
CREATE INDEX `op_log_target` ON `op_log` (`target`);--> statement-breakpoint
CREATE INDEX `op_log_clock` ON `op_log` (`channel`,`lamport`);--> statement-breakpoint
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
CREATE TABLE `queue_jobs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`queue` text NOT NULL,
	`message` text NOT NULL,
	`run_at` integer NOT NULL,
	`ordering_key` text,
	`locked_until` integer,
	`attempts` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE INDEX `queue_jobs_due` ON `queue_jobs` (`queue`,`run_at`);--> statement-breakpoint
CREATE TABLE `seen_invocations` (
	`proof_value` text PRIMARY KEY NOT NULL,
	`expires` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `seen_invocations_expires` ON `seen_invocations` (`expires`);--> statement-breakpoint
CREATE TABLE `sessions` (
	`token_hash` text PRIMARY KEY NOT NULL,
	`did` text NOT NULL,
	`csrf_token` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `sessions_did` ON `sessions` (`did`);