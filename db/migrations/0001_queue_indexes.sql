CREATE INDEX `queue_jobs_lease` ON `queue_jobs` (`queue`,`run_at`,`locked_until`);--> statement-breakpoint
CREATE INDEX `queue_jobs_order` ON `queue_jobs` (`queue`,`ordering_key`,`id`);