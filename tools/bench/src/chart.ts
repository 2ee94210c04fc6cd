export interface Series {
  label: string;
  color: string;
  /** One value per bucket; null where there is nothing to plot. */
  values: (number | null)[];
}

export interface Panel {
  title: string;
  unit: string;
  series: Series[];
}

export interface PhaseBand {
  label: string;
  startS: number;
  endS: number;
  /** The measurement window inside the phase, drawn as dashed lines. */
  windowStartS?: number;
  windowEndS?: number;
}

const WIDTH = 1000;
const PANEL_HEIGHT = 250;
const MARGIN = { left: 70, right: 20, top: 72, bottom: 40, gap: 70 };
const SUBTITLE_CHARS = 140;

/** A plain SVG of stacked line panels over a shared time axis (seconds), with phases shaded. */
export function renderChart(title: string, subtitle: string, bucketS: number, panels: Panel[], phases: PhaseBand[]): string {
  const buckets = Math.max(1, ...panels.flatMap((panel) => panel.series.map((series) => series.values.length)));
  const totalS = buckets * bucketS;
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const height = MARGIN.top + panels.length * PANEL_HEIGHT + (panels.length - 1) * MARGIN.gap + MARGIN.bottom;
  const x = (seconds: number) => MARGIN.left + (seconds / totalS) * plotWidth;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="${MARGIN.left}" y="22" font-size="16" font-weight="bold">${escape(title)}</text>`,
    ...wrap(subtitle, SUBTITLE_CHARS).map((line, index) => `<text x="${MARGIN.left}" y="${40 + index * 15}" fill="#555">${escape(line)}</text>`),
  ];

  panels.forEach((panel, panelIndex) => {
    const top = MARGIN.top + panelIndex * (PANEL_HEIGHT + MARGIN.gap) + 18;
    const plotHeight = PANEL_HEIGHT - 18;
    const maxValue = Math.max(1e-9, ...panel.series.flatMap((series) => series.values.filter((v): v is number => v !== null && Number.isFinite(v))));
    const ticks = niceTicks(maxValue);
    const yMax = ticks[ticks.length - 1];
    const y = (value: number) => top + plotHeight - (value / yMax) * plotHeight;

    parts.push(`<text x="${MARGIN.left}" y="${top - 6}" font-weight="bold">${escape(panel.title)}</text>`);
    phases.forEach((phase, index) => {
      const left = x(phase.startS);
      const width = Math.max(0, x(phase.endS) - left);
      parts.push(`<rect x="${f(left)}" y="${top}" width="${f(width)}" height="${plotHeight}" fill="${index % 2 === 0 ? '#eef3fb' : '#f6f0e8'}"/>`);
      if (panelIndex === 0) parts.push(`<text x="${f(left + 4)}" y="${top + 14}" fill="#666" font-size="11">${escape(phase.label)}</text>`);
      for (const edge of [phase.windowStartS, phase.windowEndS]) {
        if (edge === undefined) continue;
        parts.push(`<line x1="${f(x(edge))}" x2="${f(x(edge))}" y1="${top}" y2="${top + plotHeight}" stroke="#999" stroke-dasharray="4 3"/>`);
      }
    });
    for (const tick of ticks) {
      parts.push(`<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${f(y(tick))}" y2="${f(y(tick))}" stroke="#ddd"/>`);
      parts.push(`<text x="${MARGIN.left - 6}" y="${f(y(tick) + 4)}" text-anchor="end" fill="#444">${formatTick(tick)}</text>`);
    }
    parts.push(`<text x="14" y="${f(top + plotHeight / 2)}" transform="rotate(-90 14 ${f(top + plotHeight / 2)})" text-anchor="middle" fill="#444">${escape(panel.unit)}</text>`);
    for (const seconds of niceTicks(totalS)) {
      if (seconds > totalS) continue;
      parts.push(`<line x1="${f(x(seconds))}" x2="${f(x(seconds))}" y1="${top + plotHeight}" y2="${top + plotHeight + 4}" stroke="#444"/>`);
      parts.push(`<text x="${f(x(seconds))}" y="${top + plotHeight + 16}" text-anchor="middle" fill="#444">${formatTick(seconds)}</text>`);
    }
    parts.push(`<text x="${f(MARGIN.left + plotWidth / 2)}" y="${top + plotHeight + 32}" text-anchor="middle" fill="#444">seconds since the first phase started</text>`);
    parts.push(`<rect x="${MARGIN.left}" y="${top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#888"/>`);

    panel.series.forEach((series, seriesIndex) => {
      for (const segment of segments(series.values)) {
        const points = segment.map(([index, value]) => `${f(x((index + 0.5) * bucketS))},${f(y(Math.min(value, yMax)))}`).join(' ');
        if (segment.length === 1) {
          const [cx, cy] = points.split(',');
          parts.push(`<circle cx="${cx}" cy="${cy}" r="2" fill="${series.color}"/>`);
        } else {
          parts.push(`<polyline points="${points}" fill="none" stroke="${series.color}" stroke-width="1.6"/>`);
        }
      }
      const legendX = WIDTH - MARGIN.right - 170 * (panel.series.length - seriesIndex);
      parts.push(`<rect x="${legendX}" y="${top - 16}" width="12" height="3" fill="${series.color}"/>`);
      parts.push(`<text x="${legendX + 16}" y="${top - 11}" fill="#333">${escape(series.label)}</text>`);
    });
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** Splits at ' | ' so that each line stays within `width` characters (two lines at most). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const part of text.split(' | ')) {
    if (line && line.length + part.length + 3 > width) {
      lines.push(line);
      line = part;
    } else {
      line = line ? `${line} | ${part}` : part;
    }
  }
  if (line) lines.push(line);
  return lines.length > 2 ? [lines[0], lines.slice(1).join(' | ')] : lines;
}

/** Runs of consecutive plottable values. */
function segments(values: (number | null)[]): [number, number][][] {
  const result: [number, number][][] = [];
  let current: [number, number][] = [];
  values.forEach((value, index) => {
    if (value === null || !Number.isFinite(value)) {
      if (current.length) result.push(current);
      current = [];
    } else {
      current.push([index, value]);
    }
  });
  if (current.length) result.push(current);
  return result;
}

function niceTicks(max: number, target = 5): number[] {
  const raw = max / target;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((candidate) => candidate >= raw) ?? 10 * magnitude;
  const ticks: number[] = [];
  for (let value = 0; value < max + step * 0.999; value += step) ticks.push(Number(value.toPrecision(12)));
  return ticks.length > 1 ? ticks : [0, step];
}

function formatTick(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(value < 1 ? 2 : 1);
}

function f(value: number): string {
  return value.toFixed(1);
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
