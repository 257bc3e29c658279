package app

// Hooks for the tests of package app_test, which drive the real binaries.
var (
	// StepOf returns the step a chat request is for.
	StepOf = stepOf
	// LoadAnswers reads testdata/answers: step → path → content.
	LoadAnswers = loadAnswers
)
