import type { Preview } from "@flick/shared";
import { For, Match, Show, Switch } from "solid-js";
import styles from "./Card.module.css";

/**
 * A sparkline of the series with marked points (anomaly, deploy), drawn as SVG; an incident's other
 * series thinner behind it, on the same axes.
 */
function Series(props: { preview: Extract<Preview, { type: "series" }> }) {
  const w = 320;
  const h = 96;
  const geometry = () => {
    const pts = props.preview.points;
    const others = props.preview.others ?? [];
    const all = [pts, ...others.map((o) => o.points)].flat();
    const xs = all.map((p) => p[0]);
    const ys = all.map((p) => p[1]);
    const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
    const [y0, y1] = [Math.min(...ys), Math.max(...ys)];
    const sx = (x: number) => ((x - x0) / (x1 - x0 || 1)) * (w - 8) + 4;
    const sy = (y: number) => h - 6 - ((y - y0) / (y1 - y0 || 1)) * (h - 12);
    const [from, to] = (props.preview.span ?? []).map((i) => pts[i]);
    const line = (points: [number, number][]) =>
      points.map((p) => `${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(" ");
    return {
      line: line(pts),
      others: others.map((o) => line(o.points)),
      marks: (props.preview.marks ?? [])
        .map((i) => pts[i])
        .filter((p): p is [number, number] => p !== undefined)
        .map((p) => ({ x: sx(p[0]), y: sy(p[1]) })),
      span: from && to && to[0] > from[0] ? { x: sx(from[0]), width: sx(to[0]) - sx(from[0]) } : null,
      last: Number((pts[pts.length - 1]?.[1] ?? 0).toFixed(1)),
    };
  };
  return (
    <figure class={styles.series}>
      <svg
        viewBox={`0 0 ${w} ${h}`}
        role="img"
        aria-label={`${props.preview.label} chart${props.preview.others?.length ? `, with ${props.preview.others.length} more series` : ""}`}
        preserveAspectRatio="none"
      >
        <Show when={geometry().span}>
          {(band) => <rect class={styles.seriesSpan} x={band().x} y="0" width={band().width} height={h} />}
        </Show>
        <For each={geometry().others}>{(o) => <polyline class={styles.seriesOther} points={o} />}</For>
        <polyline class={styles.seriesLine} points={geometry().line} />
        <For each={geometry().marks}>
          {(m) => <circle class={styles.seriesMark} cx={m.x} cy={m.y} r="4" />}
        </For>
      </svg>
      <figcaption>
        {props.preview.label} · now {geometry().last}
        {props.preview.unit ?? ""}
        {props.preview.others?.length ? ` · ${props.preview.others.length + 1} series` : ""}
      </figcaption>
    </figure>
  );
}

export function CardPreview(props: { preview: Preview | null }) {
  return (
    <Switch>
      <Match
        when={props.preview?.type === "series" && (props.preview as Extract<Preview, { type: "series" }>)}
      >
        {(p) => <Series preview={p()} />}
      </Match>
      <Match
        when={props.preview?.type === "diffstat" && (props.preview as Extract<Preview, { type: "diffstat" }>)}
      >
        {(p) => (
          <ul class={styles.diffstat} aria-label="Files changed">
            <For each={p().files}>
              {(f) => (
                <li>
                  <code>{f.path}</code>
                  <span class={styles.added}>+{f.added}</span>
                  <span class={styles.removed}>−{f.removed}</span>
                </li>
              )}
            </For>
          </ul>
        )}
      </Match>
      <Match when={props.preview?.type === "text" && (props.preview as Extract<Preview, { type: "text" }>)}>
        {(p) => <blockquote class={styles.quote}>{p().text}</blockquote>}
      </Match>
    </Switch>
  );
}
