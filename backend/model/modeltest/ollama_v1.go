package modeltest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/ollama/ollama/openai"
)

// Ollama's OpenAI-compatible endpoints: POST /v1/chat/completions and
// GET /v1/models, answered from the same script and models as /api/chat,
// worded as Ollama words them (see completion).

// v1Models lists the models as Ollama's /v1/models does.
func (o *Ollama) v1Models(w http.ResponseWriter, _ *http.Request) {
	out := struct {
		Object string          `json:"object"`
		Data   []v1ModelObject `json:"data"`
	}{Object: "list", Data: []v1ModelObject{}}
	for _, n := range o.Models() {
		m, _ := o.model(n)
		out.Data = append(out.Data, v1ModelObject{ID: m.name, Object: "model", Created: m.modified.Unix(), OwnedBy: "library"})
	}
	writeV1JSON(w, http.StatusOK, out)
}

// v1ModelObject is one model as Ollama's /v1/models lists it.
type v1ModelObject struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

// v1Chat answers /v1/chat/completions. An unknown model is a 404 JSON
// error even when a stream was asked for.
func (o *Ollama) v1Chat(w http.ResponseWriter, r *http.Request) {
	in, req, ok := decodeV1Chat(w, r, flavorOllama)
	if !ok {
		return
	}
	m, ok := o.model(in.Model)
	if !ok {
		o.record(req)
		writeV1JSON(w, http.StatusNotFound, v1ErrorBody(fmt.Sprintf("model '%s' not found", in.Model), "api_error", ""))
		return
	}
	if len(in.Tools) > 0 && m.noTools {
		o.record(req)
		writeV1JSON(w, http.StatusBadRequest, v1ErrorBody(noToolsError(in.Model), "api_error", ""))
		return
	}
	reply := o.next(req)
	if reply.Status != 0 {
		writeV1JSON(w, reply.Status, v1ErrorBody(reply.errorText(), "api_error", ""))
		return
	}
	answerV1(w, r, in, req, reply, flavorOllama, o.done)
}

// v1Model answers GET /v1/models/{model} as Ollama does: the model under
// the name asked for, or a 404 in OpenAI's shape.
func (o *Ollama) v1Model(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("model")
	m, ok := o.model(name)
	if !ok {
		writeV1JSON(w, http.StatusNotFound, v1ErrorBody(fmt.Sprintf("model '%s' not found", name), "api_error", ""))
		return
	}
	writeV1JSON(w, http.StatusOK, v1ModelObject{ID: name, Object: "model", Created: m.modified.Unix(), OwnedBy: "library"})
}

// checkOllamaV1 refuses a chat completions body as Ollama's /v1 layer
// does: fields of the wrong type (read into Ollama's own request type, so
// the words match), no messages, messages it cannot convert.
func checkOllamaV1(body json.RawMessage) error {
	var req openai.ChatCompletionRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return err
	}
	if len(req.Messages) == 0 {
		return errors.New("[] is too short - 'messages'")
	}
	_, err := openai.FromChatRequest(req)
	return err
}
