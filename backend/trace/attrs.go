package trace

// OpenTelemetry GenAI semantic convention attribute names (semantic
// conventions 1.37 to 1.41, status "development"). They are written out here
// rather than taken from a semconv package version that may change them.
const (
	AttrGenAIOperationName      = "gen_ai.operation.name" // one of the Op* values
	AttrGenAIProviderName       = "gen_ai.provider.name"  // "ollama", "openai", ...
	AttrGenAIRequestModel       = "gen_ai.request.model"  // the model asked for
	AttrGenAIResponseModel      = "gen_ai.response.model" // the model that answered
	AttrGenAIResponseID         = "gen_ai.response.id"    // the provider's id of the answer
	AttrGenAIResponseFinish     = "gen_ai.response.finish_reasons"
	AttrGenAIRequestTemperature = "gen_ai.request.temperature"    // float
	AttrGenAIRequestTopP        = "gen_ai.request.top_p"          // float
	AttrGenAIRequestTopK        = "gen_ai.request.top_k"          // float
	AttrGenAIRequestMaxTokens   = "gen_ai.request.max_tokens"     // int
	AttrGenAIRequestSeed        = "gen_ai.request.seed"           // int
	AttrGenAIRequestStop        = "gen_ai.request.stop_sequences" // string list
	AttrGenAIOutputType         = "gen_ai.output.type"            // "json", "text"
	AttrGenAIUsageInputTokens   = "gen_ai.usage.input_tokens"     // int
	AttrGenAIUsageOutputTokens  = "gen_ai.usage.output_tokens"    // int
	AttrGenAIAgentName          = "gen_ai.agent.name"             // the role
	AttrGenAIAgentID            = "gen_ai.agent.id"
	AttrGenAIConversationID     = "gen_ai.conversation.id"
	AttrGenAIToolName           = "gen_ai.tool.name"
	AttrGenAIToolCallID         = "gen_ai.tool.call.id"
	AttrGenAIToolType           = "gen_ai.tool.type" // "function", "extension", "datastore"
	AttrGenAIWorkflowName       = "gen_ai.workflow.name"

	// AttrErrorType is the general semantic convention for the class of an
	// error a span ended with.
	AttrErrorType = "error.type"
	// AttrFilePath is the general semantic convention for a file path.
	AttrFilePath = "file.path"
)

// Values of AttrGenAIOperationName. The span of an operation is named
// "<operation> <model, agent or tool name>", e.g. "chat qwen2.5-coder:7b".
const (
	OpChat           = "chat"
	OpGenerate       = "generate_content"
	OpInvokeAgent    = "invoke_agent"
	OpExecuteTool    = "execute_tool"
	OpInvokeWorkflow = "invoke_workflow"
)

// Factory Desk attributes, for what the conventions do not name.
const (
	AttrRunID            = "factory.run.id"
	AttrBlueprint        = "factory.blueprint"
	AttrBlueprintVersion = "factory.blueprint.version"
	AttrStep             = "factory.step"
	AttrAttempt          = "factory.attempt" // int, 1-based
	AttrGate             = "factory.gate"    // the gate's command or policy
	AttrCacheHit         = "factory.cache_hit"
	AttrBytes            = "factory.bytes" // int, size of a file written
)

// Resource attribute names.
const (
	attrServiceName    = "service.name"
	attrServiceVersion = "service.version"
)
