import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useRef, type ReactNode } from "react";

interface Props<T> {
  items: readonly T[];
  rowHeight: number;
  render: (item: T, index: number) => ReactNode;
  /** Index kept in view, e.g. the keyboard selection. */
  active?: number | undefined;
  className?: string;
  testId?: string;
}

/** VirtualList renders only the visible rows of a long list. */
export function VirtualList<T>({ items, rowHeight, render, active, className, testId }: Props<T>) {
  const parent = useRef<HTMLDivElement>(null);
  const v = useVirtualizer({
    count: items.length,
    getScrollElement: () => parent.current,
    estimateSize: () => rowHeight,
    overscan: 10,
    initialRect: { width: 800, height: 600 },
  });
  useEffect(() => {
    if (active !== undefined && active >= 0) v.scrollToIndex(active, { align: "auto" });
  }, [active, v]);
  return (
    <div ref={parent} className={`vlist ${className ?? ""}`} data-testid={testId}>
      <div style={{ height: v.getTotalSize(), position: "relative" }}>
        {v.getVirtualItems().map((row) => (
          <div
            key={row.key}
            style={{ position: "absolute", top: 0, left: 0, right: 0, height: row.size, transform: `translateY(${row.start}px)` }}
          >
            {render(items[row.index]!, row.index)}
          </div>
        ))}
      </div>
    </div>
  );
}
