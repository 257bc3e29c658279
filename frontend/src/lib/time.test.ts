import { describe, expect, it } from "vitest";
import { formatBytes, formatDuration, formatTokens, isSet, ms, span } from "./time";

describe("ms", () => {
  const cases: [string, string | undefined, number | undefined][] = [
    ["RFC3339", "2025-01-01T00:00:01Z", Date.UTC(2025, 0, 1, 0, 0, 1)],
    ["Go zero time", "0001-01-01T00:00:00Z", undefined],
    ["empty", "", undefined],
    ["missing", undefined, undefined],
    ["garbage", "yesterday", undefined],
    ["fractional with offset", "2025-01-01T01:00:00.250+01:00", Date.UTC(2025, 0, 1, 0, 0, 0, 250)],
  ];
  for (const [name, in_, want] of cases) it(name, () => expect(ms(in_)).toBe(want));
  it("isSet follows ms", () => {
    expect(isSet("0001-01-01T00:00:00Z")).toBe(false);
    expect(isSet("2025-01-01T00:00:00Z")).toBe(true);
  });
});

describe("formatDuration", () => {
  const cases: [string, number | undefined, string][] = [
    ["unknown", undefined, "—"],
    ["negative", -5, "—"],
    ["millis", 850, "850ms"],
    ["seconds", 12_340, "12.3s"],
    ["minutes", 245_000, "4m05s"],
    ["hours", 7_380_000, "2h03m"],
  ];
  for (const [name, v, want] of cases) it(name, () => expect(formatDuration(v)).toBe(want));
});

describe("span", () => {
  it("ends at now when open", () => {
    expect(span("2025-01-01T00:00:00Z", "0001-01-01T00:00:00Z", Date.UTC(2025, 0, 1, 0, 0, 5))).toBe(5000);
  });
  it("is undefined without a start", () => expect(span(undefined, undefined, 0)).toBeUndefined());
});

describe("formatTokens and formatBytes", () => {
  it("formats", () => {
    expect(formatTokens(0)).toBe("0");
    expect(formatTokens(950)).toBe("950");
    expect(formatTokens(1234)).toBe("1.2k");
    expect(formatTokens(45_000)).toBe("45k");
    expect(formatTokens(2_500_000)).toBe("2.5M");
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(4.1 * 1024 ** 3)).toBe("4.1 GB");
  });
});
