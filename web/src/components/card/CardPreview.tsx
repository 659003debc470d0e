import type { Preview, SeriesPreview } from "@flick/shared";
import { createMemo, createSignal, For, Match, Show, Switch } from "solid-js";
import { lastValueWord, nearestIndex, pointLabel, scaleLabel, timeRange } from "../../lib/chart-axis.ts";
import styles from "./Card.module.css";

type Points = [number, number][];

/**
 * A sparkline of the series with marked points (anomaly, deploy), drawn as SVG; an incident's other
 * series thinner behind it, on the same axes.
 */
function Sparkline(props: {
  label: string;
  points: Points;
  marks?: number[] | undefined;
  expected?: [number, number][] | undefined;
  span?: [number, number] | undefined;
  unit?: string | undefined;
  others?: { label: string; points: Points }[] | undefined;
  small?: boolean;
}) {
  const w = 320;
  const h = () => (props.small ? 48 : 96);
  // Read by every part of the drawing: worked out once per change of the chart, not once per read.
  const geometry = createMemo(() => {
    const pts = props.points;
    const others = props.others ?? [];
    const all = [pts, ...others.map((o) => o.points)].flat();
    // What was expected at a marked point, where there is such a point.
    const gaps = (props.expected ?? []).flatMap(([i, value]) => {
      const p = pts[i];
      return p ? [{ x: p[0], from: value, to: p[1] }] : [];
    });
    const xs = all.map((p) => p[0]);
    const ys = [...all.map((p) => p[1]), ...gaps.map((g) => g.from)];
    const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
    const [y0, y1] = [Math.min(...ys), Math.max(...ys)];
    const sx = (x: number) => ((x - x0) / (x1 - x0 || 1)) * (w - 8) + 4;
    const sy = (y: number) => h() - 6 - ((y - y0) / (y1 - y0 || 1)) * (h() - 12);
    const [from, to] = (props.span ?? []).map((i) => pts[i]);
    const line = (points: Points) =>
      points.map((p) => `${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(" ");
    return {
      line: line(pts),
      others: others.map((o) => line(o.points)),
      marks: (props.marks ?? [])
        .map((i) => pts[i])
        .filter((p): p is [number, number] => p !== undefined)
        .map((p) => ({ x: sx(p[0]), y: sy(p[1]) })),
      gaps: gaps.map((g) => ({ x: sx(g.x), from: sy(g.from), to: sy(g.to) })),
      span: from && to && to[0] >= from[0] ? { x: sx(from[0]), width: sx(to[0]) - sx(from[0]) } : null,
      last: Number((pts[pts.length - 1]?.[1] ?? 0).toFixed(1)),
      // The scale's ends and the times the chart covers, written beside and below it.
      scale: (y1 > y0 ? [y1, y0] : [y1]).map((y) => `${scaleLabel(y)}${props.unit ?? ""}`),
      times: timeRange(x0, x1),
      from: x0,
      to: x1,
      // Where each point is drawn, to find the one under the pointer.
      xs: pts.map((p) => sx(p[0])),
      ys: pts.map((p) => sy(p[1])),
    };
  });
  // The point being read (under the mouse, or the last one tapped): its time and value in the
  // caption instead of the latest value, a line down the chart through it. Tapping the point being
  // read again puts the latest value back (a mouse does that by leaving the chart).
  const [reading, setReading] = createSignal<number | null>(null);
  let svg: SVGSVGElement | undefined;
  const read = (e: MouseEvent) => {
    const box = svg?.getBoundingClientRect();
    if (!box?.width) return;
    const i = nearestIndex(geometry().xs, ((e.clientX - box.left) / box.width) * w);
    const tap = e.type === "click" && (e as PointerEvent).pointerType !== "mouse";
    setReading(i < 0 || (tap && i === reading()) ? null : i);
  };
  // From the keyboard (the chart takes focus like a slider): ← / → step a point (with shift, ten),
  // home / end go to the first / latest, m to the next marked point (the break, the deploy),
  // escape puts the latest value back. The first ← reads the point before the latest, which the
  // caption already says.
  const step = (e: KeyboardEvent) => {
    const last = props.points.length - 1;
    const at = reading() ?? last;
    const by = e.shiftKey ? 10 : 1;
    const marks = [...(props.marks ?? [])].sort((a, b) => a - b);
    const to: Record<string, number | null> = {
      ArrowLeft: at - by,
      ArrowRight: at + by,
      Home: 0,
      End: last,
    };
    if (marks.length) to.m = marks.find((i) => reading() === null || i > at) ?? (marks[0] as number);
    if (e.key === "Escape" && reading() !== null) to.Escape = null;
    if (!(e.key in to) || last < 0) return;
    e.preventDefault();
    const i = to[e.key] ?? null;
    setReading(i === null ? null : Math.max(0, Math.min(last, i)));
  };
  const readout = createMemo(() => {
    const i = reading();
    const p = i === null ? undefined : props.points[i];
    const g = geometry();
    return i === null || !p
      ? null
      : { x: g.xs[i] ?? 0, y: g.ys[i] ?? 0, label: pointLabel(p, [g.from, g.to]) };
  });
  /** The point being read, or the latest value: "13:31 UTC: 41.9" / "now 400" / "latest 61". */
  const caption = () =>
    `${readout()?.label ?? `${lastValueWord(geometry().to)} ${geometry().last}`}${props.unit ?? ""}`;
  return (
    <figure class={props.small ? `${styles.series} ${styles.seriesSmall}` : styles.series}>
      <div class={styles.seriesPlot}>
        {/* The highest and lowest value drawn (the chart's top and bottom): the scale. */}
        <div class={styles.seriesScale} aria-hidden="true">
          <For each={geometry().scale}>{(label) => <span>{label}</span>}</For>
        </div>
        {/* Read like a slider along time: the mouse, a tap, or the arrow keys move the reading. */}
        <div
          role="slider"
          tabIndex={0}
          aria-label={`${props.label} chart${props.others?.length ? `, with ${props.others.length} more series` : ""}`}
          aria-valuemin={0}
          aria-valuemax={Math.max(props.points.length - 1, 0)}
          aria-valuenow={reading() ?? Math.max(props.points.length - 1, 0)}
          aria-valuetext={caption()}
          onPointerMove={(e) => e.pointerType === "mouse" && read(e)}
          onPointerLeave={(e) => e.pointerType === "mouse" && setReading(null)}
          onClick={read}
          onKeyDown={step}
        >
          <svg ref={svg} viewBox={`0 0 ${w} ${h()}`} aria-hidden="true" preserveAspectRatio="none">
            <Show when={geometry().span}>
              {(band) => (
                <>
                  <rect class={styles.seriesSpan} x={band().x} y="0" width={band().width} height={h()} />
                  {/* Where the stretch begins (a deploy, a new pattern), visible however narrow it is. */}
                  <line class={styles.seriesSpanEdge} x1={band().x} y1="0" x2={band().x} y2={h()} />
                </>
              )}
            </Show>
            <For each={geometry().others}>{(o) => <polyline class={styles.seriesOther} points={o} />}</For>
            <polyline class={styles.seriesLine} points={geometry().line} />
            {/* What was expected there: a ring joined to the point by a dashed line. */}
            <For each={geometry().gaps}>
              {(g) => (
                <>
                  <line class={styles.seriesGap} x1={g.x} y1={g.from} x2={g.x} y2={g.to} />
                  <line class={styles.seriesExpected} x1={g.x} y1={g.from} x2={g.x} y2={g.from} />
                  <line class={styles.seriesExpectedHole} x1={g.x} y1={g.from} x2={g.x} y2={g.from} />
                </>
              )}
            </For>
            {/* A zero-length round-capped line: a dot that stays round however the chart is stretched. */}
            <For each={geometry().marks}>
              {(m) => <line class={styles.seriesMark} x1={m.x} y1={m.y} x2={m.x} y2={m.y} />}
            </For>
            <Show when={readout()}>
              {(r) => (
                <>
                  <line class={styles.seriesCursor} x1={r().x} y1="0" x2={r().x} y2={h()} />
                  <line class={styles.seriesRead} x1={r().x} y1={r().y} x2={r().x} y2={r().y} />
                </>
              )}
            </Show>
          </svg>
        </div>
        <Show when={geometry().times}>
          {(times) => (
            <div class={styles.seriesAxis}>
              <time dateTime={new Date(geometry().from).toISOString()}>{times()[0]}</time>
              <time dateTime={new Date(geometry().to).toISOString()}>{times()[1]}</time>
            </div>
          )}
        </Show>
      </div>
      <figcaption>
        {props.label} · {caption()}
        {props.others?.length ? ` · ${props.others.length + 1} series` : ""}
      </figcaption>
    </figure>
  );
}

/** The card's chart; other metrics that broke with it below, each on its own axes. */
function Series(props: { preview: SeriesPreview }) {
  return (
    <>
      <Sparkline
        label={props.preview.label}
        points={props.preview.points}
        marks={props.preview.marks}
        expected={props.preview.expected}
        span={props.preview.span}
        unit={props.preview.unit}
        others={props.preview.others}
      />
      <For each={props.preview.charts ?? []}>
        {(c) => (
          <Sparkline
            label={c.label}
            points={c.points}
            marks={c.marks}
            expected={c.expected}
            span={c.span}
            others={c.others}
            small
          />
        )}
      </For>
    </>
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
