package langchain

import (
	"encoding/json"
	"testing"
)

func TestOllamaBase(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"":                          "http://127.0.0.1:11434/v1",
		"127.0.0.1":                 "http://127.0.0.1:11434/v1",
		"gpu-box:11434":             "http://gpu-box:11434/v1",
		":9999":                     "http://127.0.0.1:9999/v1",
		"http://ollama.internal":    "http://ollama.internal/v1",
		"https://ollama.bank.test/": "https://ollama.bank.test/v1",
		"http://10.0.0.5:11434/v1":  "http://10.0.0.5:11434/v1",
		"http://proxy:8080/ollama":  "http://proxy:8080/ollama/v1",
	}
	for in, want := range cases {
		got, err := ollamaBase(in)
		if err != nil || got != want {
			t.Errorf("ollamaBase(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestMergeTurns(t *testing.T) {
	t.Parallel()
	in := `{"model":"m","max_tokens":10,"messages":[
		{"role":"user","content":[{"type":"text","text":"q"}]},
		{"role":"assistant","content":[{"type":"text","text":"looking"}]},
		{"role":"assistant","content":[{"type":"tool_use","id":"a","name":"x","input":{}}]},
		{"role":"assistant","content":[{"type":"tool_use","id":"b","name":"y","input":{"k":1}}]},
		{"role":"user","content":[{"type":"tool_result","tool_use_id":"a","content":"ra"}]},
		{"role":"user","content":[{"type":"tool_result","tool_use_id":"b","content":"rb"}]},
		{"role":"user","content":"follow-up"},
		{"role":"assistant","content":"plain string"}]}`
	want := `{"max_tokens":10,"messages":[
		{"role":"user","content":[{"type":"text","text":"q"}]},
		{"role":"assistant","content":[{"type":"text","text":"looking"},{"type":"tool_use","id":"a","name":"x","input":{}},{"type":"tool_use","id":"b","name":"y","input":{"k":1}}]},
		{"role":"user","content":[{"type":"tool_result","tool_use_id":"a","content":"ra"},{"type":"tool_result","tool_use_id":"b","content":"rb"},{"type":"text","text":"follow-up"}]},
		{"role":"assistant","content":[{"type":"text","text":"plain string"}]}],"model":"m"}`
	got, err := mergeTurns([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	var g, w any
	_ = json.Unmarshal(got, &g)
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if string(gb) != string(wb) {
		t.Fatalf("merged:\n%s\nwant:\n%s", gb, wb)
	}
}
