CREATE TABLE "ingest_stray" (
	"path" text PRIMARY KEY NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"status" integer NOT NULL,
	"message" text NOT NULL,
	"user_agent" text
);
