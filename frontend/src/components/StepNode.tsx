import { Handle, Position, type Node, type NodeProps } from "@xyflow/react";
import { memo } from "react";
import type { GraphStep } from "../lib/graph";

/** StepNodeData is what a step node renders. */
export type StepNodeData = GraphStep;

/** StepFlowNode is a React Flow node of type "step". */
export type StepFlowNode = Node<StepNodeData, "step">;

function StepNodeView({ data, selected }: NodeProps<StepFlowNode>) {
  const status = data.status ?? "blueprint";
  return (
    <div
      className={`step-node status-${status}${selected ? " selected" : ""}`}
      data-testid={`step-node-${data.id}`}
      data-status={status}
      title={`${data.id} (${data.role})${data.model ? ` · ${data.model}` : ""}`}
    >
      <Handle type="target" position={Position.Left} isConnectable={false} />
      <div className="step-node-title">{data.id}</div>
      <div className="step-node-meta">
        <span>{data.role}</span>
        {data.status && <span className="step-node-status">{data.status.replace("_", " ")}</span>}
      </div>
      <div className="step-node-badges">
        {(data.attempts ?? 0) > 1 && (
          <span className="mini" data-testid="attempts" title="attempts">
            ×{data.attempts}
          </span>
        )}
        {data.cacheHit && (
          <span className="mini cache" data-testid="cache-hit" title="taken from the cache">
            cached
          </span>
        )}
        {data.review && (
          <span className="mini review" data-testid="review-badge" title={data.status ? "waiting for review" : "review required"}>
            {data.status ? "review" : "needs review"}
          </span>
        )}
      </div>
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </div>
  );
}

/** StepNode is memoised: React Flow re-renders only the nodes whose data changed. */
export const StepNode = memo(StepNodeView);
