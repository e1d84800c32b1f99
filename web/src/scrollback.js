// A console opens its WebSocket first and then fetches the scrollback, so no byte falls between
// the two; the bytes that arrived live meanwhile may be in the scrollback as well. This finds
// them: the longest start of `live` that is also the end of `logs`. An overlap shorter than
// kMinOverlap is left alone, since a line end or a prompt repeats by chance, and dropping
// bytes the guest did send would be worse than showing a few twice.

const kMinOverlap = 16;

// The part of `live` (a Uint8Array) that `logs` (a Uint8Array) does not already end with.
export function liveAfterLogs(logs, live) {
  const first = Math.max(0, logs.length - live.length);
  for (let i = first; i <= logs.length - kMinOverlap; ++i) {
    const overlap = logs.length - i;
    let same = true;
    for (let j = 0; j < overlap && same; ++j) same = logs[i + j] === live[j];
    if (same) return live.subarray(overlap);
  }
  return live;
}
