import type { Source } from "@flick/shared";
import { describe, expect, it } from "vitest";
import { remoteWriteConfig } from "../../web/src/lib/prometheus.ts";

const source = { ingestUrl: "https://flick.example/ingest/src_1", secret: "s3cr3t" } as Source;

describe("the remote_write block a metrics source offers", () => {
  it("keeps the metrics mapped to actions: a series' metric by its name, once, dots escaped", () => {
    const block = remoteWriteConfig(source, {
      actions: {
        'checkout_success{zone="a"}': "rollback",
        'checkout_success{zone="b"}': "rollback",
        "api.latency": "page",
      },
    });
    expect(block).toContain(
      "  - url: https://flick.example/ingest/src_1\n    authorization:\n      credentials: s3cr3t\n",
    );
    expect(block).toContain("regex: 'checkout_success|api\\.latency'");
  });

  it("offers names to replace when none is mapped yet", () => {
    expect(remoteWriteConfig(source, {})).toContain("regex: 'checkout_success|signup_success'");
  });
});
