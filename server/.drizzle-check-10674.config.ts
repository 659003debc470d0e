export default {
  dialect: "postgresql",
  schema: "./src/db/schema/index.ts",
  out: "./.drizzle-check-IbE8YA/migrations",
};
