CREATE TABLE "push_delivery" (
	"user_id" text NOT NULL,
	"card_id" text NOT NULL,
	"status" text NOT NULL,
	"devices" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "push_delivery_user_id_card_id_pk" PRIMARY KEY("user_id","card_id")
);
--> statement-breakpoint
CREATE TABLE "push_preference" (
	"user_id" text PRIMARY KEY NOT NULL,
	"threshold" double precision DEFAULT 0.7 NOT NULL,
	"max_per_hour" integer DEFAULT 3 NOT NULL,
	"quiet_start" text,
	"quiet_end" text,
	"time_zone" text DEFAULT 'UTC' NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "push_preference_threshold_check" CHECK ("push_preference"."threshold" >= 0 and "push_preference"."threshold" <= 1),
	CONSTRAINT "push_preference_max_check" CHECK ("push_preference"."max_per_hour" >= 0 and "push_preference"."max_per_hour" <= 60)
);
--> statement-breakpoint
ALTER TABLE "push_delivery" ADD CONSTRAINT "push_delivery_user_id_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "push_preference" ADD CONSTRAINT "push_preference_user_id_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "push_delivery_user_time_idx" ON "push_delivery" USING btree ("user_id","created_at");