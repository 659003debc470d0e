CREATE TABLE "agent_state" (
	"agent" text NOT NULL,
	"key" text NOT NULL,
	"state" jsonb NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "agent_state_agent_key_pk" PRIMARY KEY("agent","key")
);
