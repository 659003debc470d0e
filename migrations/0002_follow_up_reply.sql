ALTER TABLE "follow_up" ADD COLUMN "reply" text;--> statement-breakpoint
ALTER TABLE "follow_up" ADD COLUMN "tokens" integer DEFAULT 0 NOT NULL;