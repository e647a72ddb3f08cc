// Decodes an HdrHistogram interval log with hdr-histogram-js's log reader and prints, per tag,
// the sum of its interval histograms as one JSON object (untagged lines under ""):
//   {"<tag>": {"intervals": n, "start_ms": t, "length_ms": [l, ...], "total_count": n,
//              "min": v, "max": v,
//              "percentiles": {"50": {"value": v, "rank": r, "nearest_rank": r2,
//                                     "value_at_nearest_rank": v2}, ...}}, ...}
// "value" and "rank" are the library's getValueAtPercentile and the rank it uses (the count
// rounded up); "value_at_nearest_rank" is the highest equivalent value of the counter holding
// the rank rounded half up, which is chaperon's rule. Percentiles: 50, 90, 99, 99.9.
// Usage: node decode_hlog.js FILE.hlog
"use strict";

const fs = require("fs");
const { HistogramLogReader } = require("hdr-histogram-js");

const PERCENTILES = [50, 90, 99, 99.9];

function valueAtRank(h, rank) {
  let seen = 0;
  for (let i = 0; i < h.countsArrayLength; i++) {
    seen += h.getCountAtIndex(i);
    if (seen >= rank) return h.highestEquivalentValue(h.valueFromIndex(i));
  }
  return 0;
}

function percentile(h, p) {
  const total = h.totalCount;
  // The library's rank: the count at p rounded up (a difference of one ulp ignored).
  const fp = (p / 100) * total;
  const rank = Math.max(Math.ceil(fp - Number.EPSILON * fp), 1);
  const nearest = Math.max(Math.floor(fp + 0.5), 1);
  return {
    value: h.getValueAtPercentile(p),
    rank,
    nearest_rank: nearest,
    value_at_nearest_rank: valueAtRank(h, nearest),
  };
}

function summary({ intervals, starts, lengths, histogram }) {
  const empty = histogram.totalCount === 0;
  const percentiles = {};
  for (const p of PERCENTILES) percentiles[String(p)] = percentile(histogram, p);
  return {
    intervals,
    start_ms: Math.min(...starts),
    length_ms: lengths,
    total_count: histogram.totalCount,
    min: empty ? 0 : histogram.getValueAtPercentile(0),
    max: empty ? 0 : histogram.maxValue,
    percentiles,
  };
}

function main(argv) {
  if (argv.length !== 3) {
    process.stderr.write("usage: node decode_hlog.js FILE.hlog\n");
    return 2;
  }
  // 64-bit counters: a summed tag may exceed what 32-bit buckets hold.
  const reader = new HistogramLogReader(fs.readFileSync(argv[2], "utf8"), 64);
  const sums = new Map();
  for (let h = reader.nextIntervalHistogram(); h !== null; h = reader.nextIntervalHistogram()) {
    const tag = h.tag === "NO TAG" ? "" : h.tag;
    const length = Math.round(h.endTimeStampMsec - h.startTimeStampMsec);
    const entry = sums.get(tag);
    if (entry === undefined) {
      const first = { intervals: 1, starts: [h.startTimeStampMsec], lengths: [length] };
      sums.set(tag, { ...first, histogram: h });
    } else {
      entry.intervals += 1;
      entry.starts.push(h.startTimeStampMsec);
      entry.lengths.push(length);
      entry.histogram.add(h);
    }
  }
  const out = {};
  for (const [tag, entry] of sums) out[tag] = summary(entry);
  process.stdout.write(JSON.stringify(out) + "\n");
  return 0;
}

process.exitCode = main(process.argv);
