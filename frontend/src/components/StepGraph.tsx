import { Background, Controls, ReactFlow, useReactFlow, useStore, type Edge } from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { useEffect, useMemo, useState } from "react";
import { layoutSteps } from "../lib/elk";
import { ELK_MAX_STEPS, edges, fallbackLayout, layoutKey, type GraphStep, type Point } from "../lib/graph";
import { StepNode, type StepFlowNode } from "./StepNode";

// Declared once at module scope so React Flow never sees a new object.
const nodeTypes = { step: StepNode };

interface Props {
  steps: GraphStep[];
  selected?: string | undefined;
  onSelect?: (id: string) => void;
}

/**
 * useLayout lays steps out with ELK, using a layered fallback until it
 * answers; a graph larger than ELK_MAX_STEPS keeps the fallback.
 */
function useLayout(steps: GraphStep[]): { pos: Record<string, Point>; ready: boolean } {
  const key = layoutKey(steps);
  const large = steps.length > ELK_MAX_STEPS;
  const [layout, setLayout] = useState<{ key: string; pos: Record<string, Point> }>();
  useEffect(() => {
    if (large) return;
    let live = true;
    layoutSteps(steps).then(
      (pos) => live && setLayout({ key, pos }),
      () => undefined,
    );
    return () => {
      live = false;
    };
    // Re-layout only when the graph's shape changes.
  }, [key, large]);
  const elk = !large && layout?.key === key;
  const pos = useMemo(() => (elk && layout ? layout.pos : fallbackLayout(steps)), [elk, layout, steps]);
  return { pos, ready: elk || large };
}

/** AutoFit refits the view when the canvas is resized, e.g. when the step panel opens. */
function AutoFit() {
  const { fitView } = useReactFlow();
  const width = useStore((s) => s.width);
  const height = useStore((s) => s.height);
  useEffect(() => {
    if (width > 0 && height > 0) void fitView({ padding: 0.2, maxZoom: 1.2 });
  }, [width, height, fitView]);
  return null;
}

/** StepGraph draws a run's or a blueprint's steps, edges from `needs`. */
export function StepGraph({ steps, selected, onSelect }: Props) {
  const { pos, ready } = useLayout(steps);
  const nodes = useMemo<StepFlowNode[]>(
    () =>
      steps.map((s) => ({
        id: s.id,
        type: "step",
        position: pos[s.id] ?? { x: 0, y: 0 },
        data: s,
        selected: s.id === selected,
        draggable: false,
        connectable: false,
      })),
    [steps, pos, selected],
  );
  const byId = useMemo(() => new Map(steps.map((s) => [s.id, s])), [steps]);
  const flowEdges = useMemo<Edge[]>(
    () =>
      edges(steps).map((e) => ({
        ...e,
        animated: byId.get(e.target)?.status === "running",
        className: `edge-${byId.get(e.source)?.status ?? "blueprint"}`,
      })),
    [steps, byId],
  );
  // A new shape or the finished layout remounts the canvas so it fits the view.
  const shapeKey = `${layoutKey(steps)}#${ready ? "elk" : "fallback"}`;
  return (
    <div className="graph" data-testid="step-graph">
      <ReactFlow
        key={shapeKey}
        nodes={nodes}
        edges={flowEdges}
        nodeTypes={nodeTypes}
        onNodeClick={(_, n) => onSelect?.(n.id)}
        fitView
        fitViewOptions={{ padding: 0.2, maxZoom: 1.2 }}
        nodesDraggable={false}
        nodesConnectable={false}
        elementsSelectable
        minZoom={0.2}
      >
        <Background gap={24} />
        <Controls showInteractive={false} />
        <AutoFit />
      </ReactFlow>
    </div>
  );
}
