DROP INDEX "signal_fingerprint_idx";--> statement-breakpoint
CREATE INDEX "signal_done_idx" ON "signal" USING btree ("processed_at","id") WHERE "signal"."state" = 'done';