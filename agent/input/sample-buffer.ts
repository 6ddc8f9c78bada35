/**
 * A growable buffer of numbers backed by a Float64Array, for a timing window's samples.
 *
 * The hook path appends one number per event; a plain array would box and reallocate as it grows,
 * so the buffer doubles its typed storage instead and keeps it across windows (`clear` only resets
 * the length). Readers get a view of the filled part, never a copy.
 */

/** Initial capacity; a busy 30 s window (200 pointer moves/s) grows it to 8,192 and keeps it. */
const INITIAL_CAPACITY = 256;

export class SampleBuffer {
  private data = new Float64Array(INITIAL_CAPACITY);
  private size = 0;

  /** How many samples are held. */
  get length(): number {
    return this.size;
  }

  /** Append one sample. Amortised O(1); allocates only when the buffer doubles. */
  push(value: number): void {
    if (this.size === this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.size++] = value;
  }

  /** The samples as a view over the buffer's storage: valid until the next push or clear. */
  view(): Float64Array {
    return this.data.subarray(0, this.size);
  }

  /** Forget every sample, keeping the storage for the next window. */
  clear(): void {
    this.size = 0;
  }
}
