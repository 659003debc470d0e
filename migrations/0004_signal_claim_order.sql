DROP INDEX "signal_claim_idx";--> statement-breakpoint
CREATE INDEX "signal_claim_idx" ON "signal" USING btree ("next_attempt_at","id") WHERE "signal"."state" in ('pending', 'processing');