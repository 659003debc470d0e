CREATE TABLE "source_refusal" (
	"source_id" text PRIMARY KEY NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"status" integer NOT NULL,
	"message" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "source_refusal" ADD CONSTRAINT "source_refusal_source_id_source_id_fk" FOREIGN KEY ("source_id") REFERENCES "public"."source"("id") ON DELETE cascade ON UPDATE no action;