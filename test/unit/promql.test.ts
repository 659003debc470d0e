import { alertOnSeries, seriesInExpr, seriesOfAlert } from "@flick/server/promql";
import { describe, expect, it } from "vitest";

describe("the series an alerting rule's expression reads", () => {
  it("finds metric names and equality matchers, not functions, aggregations, label lists or ranges", () => {
    expect(
      seriesInExpr('sum(rate(http_requests_total{job="api", code=~"5.."}[5m])) by (instance) > 10'),
    ).toEqual([{ name: "http_requests_total", matchers: { job: "api" } }]);
    expect(
      seriesInExpr(
        'histogram_quantile(0.99, sum without (pod) (rate(latency_bucket{le!="+Inf"}[1m]))) > 0.5',
      ),
    ).toEqual([{ name: "latency_bucket", matchers: {} }]);
    expect(
      seriesInExpr(
        "(node_memory_MemTotal_bytes - node_memory_MemAvailable_bytes) / node_memory_MemTotal_bytes * 100 > 80 offset 5m",
      ),
    ).toEqual([
      { name: "node_memory_MemTotal_bytes", matchers: {} },
      { name: "node_memory_MemAvailable_bytes", matchers: {} },
    ]);
    expect(seriesInExpr('{__name__="up", job="node"} == 0')).toEqual([
      { name: "up", matchers: { job: "node" } },
    ]);
    expect(seriesInExpr("errors_total and on (instance) deploys_total > bool 1e3")).toEqual([
      { name: "errors_total", matchers: {} },
      { name: "deploys_total", matchers: {} },
    ]);
  });

  it("reads Prometheus' generatorURL, and nothing from a link that is not one", () => {
    const url = `http://prometheus:9090/graph?g0.expr=${encodeURIComponent('checkout_success{service="shop"} < 0.9')}&g0.tab=1`;
    expect(seriesOfAlert(url)).toEqual([{ name: "checkout_success", matchers: { service: "shop" } }]);
    expect(seriesOfAlert("https://sentry.io/organizations/acme/alerts/rules/details/1/")).toEqual([]);
    expect(seriesOfAlert("not a url")).toEqual([]);
    expect(seriesOfAlert(undefined)).toEqual([]);
  });

  it("puts an alert on a series only when no label of the series contradicts it", () => {
    const refs = seriesInExpr("checkout_success < 0.9");
    const shop = { name: "checkout_success", labels: { service: "shop", env: "prod" } };
    expect(alertOnSeries(refs, { alertname: "Low", service: "shop" }, shop)).toBe(true);
    expect(alertOnSeries(refs, { alertname: "Low", service: "cart" }, shop)).toBe(false);
    expect(
      alertOnSeries(refs, { alertname: "Low", service: "shop" }, { ...shop, name: "signup_success" }),
    ).toBe(false);
    // The rule's own matchers must hold on the series.
    expect(
      alertOnSeries(seriesInExpr('checkout_success{env="staging"} < 0.9'), { alertname: "Low" }, shop),
    ).toBe(false);
  });
});
