/**
 * Which offsets of a subnet are taken, kept in memory so that finding the lowest free address costs
 * neither a store read nor a scan of the whole subnet. Two shapes: a bitmap for IPv4 subnets (at most
 * 2^24 addresses, 2 MiB), and a sorted array of taken runs for IPv6 (a /64 has 2^64 addresses: memory
 * grows with the addresses handed out, never with the subnet).
 */

export interface TakenSet {
  has(offset: bigint): boolean;
  add(offset: bigint): void;
  delete(offset: bigint): void;
  /** The lowest offset in [first, last] that is not taken, or undefined when all are. */
  lowestFree(first: bigint, last: bigint): bigint | undefined;
  /** How many offsets are taken. */
  readonly size: number;
}

/** Largest subnet (in addresses) given a bitmap. */
export const bitmapLimit = 1n << 24n;

/** The set for a subnet of `addresses` addresses: a bitmap when small enough, else taken runs. */
export function createTakenSet(family: 4 | 6, addresses: bigint): TakenSet {
  return family === 4 && addresses <= bitmapLimit ? new Bitmap(Number(addresses)) : new TakenRuns();
}

/** One bit per address, plus a remembered point below which a range is known to be full. */
export class Bitmap implements TakenSet {
  private readonly words: Uint32Array;
  private count = 0;
  /** Every offset in [hintFirst, hintNext) is taken (sequential allocation then costs O(1) per address). */
  private hintFirst = -1;
  private hintNext = 0;

  constructor(readonly capacity: number) {
    this.words = new Uint32Array(Math.ceil(capacity / 32));
  }

  get size(): number {
    return this.count;
  }

  has(offset: bigint): boolean {
    const index = this.index(offset);
    return (this.words[index >>> 5]! & (1 << (index & 31))) !== 0;
  }

  add(offset: bigint): void {
    if (this.has(offset)) return;
    const index = Number(offset);
    this.words[index >>> 5]! |= 1 << (index & 31);
    this.count++;
  }

  delete(offset: bigint): void {
    if (!this.has(offset)) return;
    const index = Number(offset);
    this.words[index >>> 5]! &= ~(1 << (index & 31));
    this.count--;
    if (index >= this.hintFirst && index < this.hintNext) this.hintNext = index;
  }

  lowestFree(first: bigint, last: bigint): bigint | undefined {
    const start = Number(first);
    const end = Math.min(Number(last), this.capacity - 1);
    let index = this.hintFirst === start ? Math.max(this.hintNext, start) : start;
    let found: number | undefined;
    while (index <= end) {
      // Free bits of this word at or above index; whole words that are full are skipped.
      const free = ~this.words[index >>> 5]! & (0xffffffff << (index & 31));
      if (free === 0) {
        index = ((index >>> 5) + 1) * 32;
        continue;
      }
      const candidate = (index & ~31) + (31 - Math.clz32(free & -free));
      if (candidate <= end) found = candidate;
      break;
    }
    this.hintFirst = start;
    this.hintNext = found ?? end + 1;
    return found === undefined ? undefined : BigInt(found);
  }

  private index(offset: bigint): number {
    if (offset < 0n || offset >= BigInt(this.capacity)) throw new RangeError(`ipam: offset ${offset} is outside the bitmap (${this.capacity})`);
    return Number(offset);
  }
}

/** Taken offsets as sorted, disjoint, non-adjacent runs [starts[i], ends[i]]. */
export class TakenRuns implements TakenSet {
  private readonly starts: bigint[] = [];
  private readonly ends: bigint[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** How many runs are kept (for tests: the memory used). */
  get runs(): number {
    return this.starts.length;
  }

  has(offset: bigint): boolean {
    const index = this.runAtOrBefore(offset);
    return index >= 0 && this.ends[index]! >= offset;
  }

  add(offset: bigint): void {
    const index = this.runAtOrBefore(offset);
    if (index >= 0 && this.ends[index]! >= offset) return;
    this.count++;
    const joinsLeft = index >= 0 && this.ends[index]! === offset - 1n;
    const joinsRight = index + 1 < this.starts.length && this.starts[index + 1]! === offset + 1n;
    if (joinsLeft && joinsRight) {
      this.ends[index] = this.ends[index + 1]!;
      this.starts.splice(index + 1, 1);
      this.ends.splice(index + 1, 1);
    } else if (joinsLeft) {
      this.ends[index] = offset;
    } else if (joinsRight) {
      this.starts[index + 1] = offset;
    } else {
      this.starts.splice(index + 1, 0, offset);
      this.ends.splice(index + 1, 0, offset);
    }
  }

  delete(offset: bigint): void {
    const index = this.runAtOrBefore(offset);
    if (index < 0 || this.ends[index]! < offset) return;
    this.count--;
    const start = this.starts[index]!;
    const end = this.ends[index]!;
    if (start === offset && end === offset) {
      this.starts.splice(index, 1);
      this.ends.splice(index, 1);
    } else if (start === offset) {
      this.starts[index] = offset + 1n;
    } else if (end === offset) {
      this.ends[index] = offset - 1n;
    } else {
      this.ends[index] = offset - 1n;
      this.starts.splice(index + 1, 0, offset + 1n);
      this.ends.splice(index + 1, 0, end);
    }
  }

  lowestFree(first: bigint, last: bigint): bigint | undefined {
    const index = this.runAtOrBefore(first);
    // Runs never touch, so the address after a run is free.
    const candidate = index >= 0 && this.ends[index]! >= first ? this.ends[index]! + 1n : first;
    return candidate <= last ? candidate : undefined;
  }

  /** Index of the last run starting at or before offset, or -1. */
  private runAtOrBefore(offset: bigint): number {
    let low = 0;
    let high = this.starts.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.starts[middle]! <= offset) low = middle + 1;
      else high = middle;
    }
    return low - 1;
  }
}
