package catalog

import (
	"container/heap"
	"math"
	"sort"
	"strings"
	"sync"
	"unicode"
)

// Search ranks products with BM25F: each field of a product (name,
// synonyms, tags, description, columns, metrics, ...) has a weight, term
// frequencies are length-normalised per field, and a term's rarity across
// products (IDF) weighs it. Adjacent word pairs are indexed as well, so a
// phrase ("new customers") beats its words scattered. Query words missing
// from the vocabulary match close spellings (one edit from 5 letters, two
// from 8) at a reduced weight. Everything a query needs is precomputed
// when the registry is built: a query touches only the postings of its
// terms.

// Field weights: what a product is called counts most, what its columns
// hold least.
const (
	wName        = 6.0
	wSynonym     = 4.0
	wTag         = 3.0
	wDomain      = 2.0
	wDataProduct = 2.0
	wDescription = 1.0
	wColumnName  = 1.0
	wColumnDesc  = 0.4
	wColumnSyn   = 1.0
	wColumnValue = 0.8
	wMetricName  = 1.5
	wMetricDesc  = 0.5
	wMetricSyn   = 1.5

	bm25K1 = 1.2
	bm25B  = 0.75

	fuzzyWeight1 = 0.6 // one edit away
	fuzzyWeight2 = 0.4 // two edits away
	phraseWeight = 1.0 // adjacent pairs, on top of their words
	// nameCover rewards covering a product's name, beyond BM25 (which
	// saturates): "customers" prefers customers to customer-acquisition,
	// whose name it covers only half of. It is IDF-weighted, so a word most
	// names share adds little.
	nameCover = 1.0
)

const (
	fName = iota
	fSynonym
	fTag
	fDomain
	fDataProduct
	fDescription
	fColumnName
	fColumnDesc
	fColumnSyn
	fColumnValue
	fMetricName
	fMetricDesc
	fMetricSyn
	numFields
)

var fieldWeights = [numFields]float64{wName, wSynonym, wTag, wDomain, wDataProduct, wDescription,
	wColumnName, wColumnDesc, wColumnSyn, wColumnValue, wMetricName, wMetricDesc, wMetricSyn}

// Hit is a search result.
type Hit struct {
	Product *Product
	Score   float64
}

type posting struct {
	doc int32
	w   float32 // saturated, length-normalised term frequency; times IDF at query time
}

type searchIndex struct {
	docs     []*Product
	terms    map[string]int32
	postings [][]posting
	idf      []float64
	// names[t] lists the products whose name has term t, with the share of
	// the name it is.
	names [][]posting
	// deletes maps a word with one or two letters deleted to the words it
	// came from (symmetric-delete spelling correction): a misspelt query word
	// finds its candidates by lookups, not by scanning the vocabulary.
	deletes map[string][]int32
	words   []string // term id -> term, for verifying fuzzy candidates
	scratch sync.Pool
}

// stopwords carry no topic: function words, and the time words of
// questions ("last month"), which say when, not what. They are dropped from
// documents and queries alike.
var stopwords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`a an the of for to in on by and or is are was were be been being
		what which who whom whose how do does did we our us i me my you your they them their
		have has had about with from at as this that these those there it its any all some
		show give list find get tell can could would should will shall may might must
		much many per each into than then so if please data
		last next previous since during between ago compared versus vs
		today yesterday week weeks month months quarter quarters year years`) {
		stopwords[w] = true
	}
}

// tokenize lowercases s and splits it on anything not a letter or digit.
func tokenize(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// terms turns text into index terms: tokens without stopwords, stemmed.
func terms(s string) []string {
	toks := tokenize(s)
	out := toks[:0]
	for _, t := range toks {
		if !stopwords[t] {
			out = append(out, Stem(t))
		}
	}
	return out
}

// Stem is a light suffix stripper: plurals (s, es, ies), -ing, -ed, and a
// final e, so that "mortgages", "mortgage"; "acquired", "acquire",
// "acquiring"; "denied", "deny" meet. It only has to be consistent, since
// documents and queries go through the same function.
func Stem(w string) string {
	n := len(w)
	if n <= 3 {
		return w
	}
	switch {
	case strings.HasSuffix(w, "ies") && n > 4:
		w = w[:n-3] + "y"
	case strings.HasSuffix(w, "sses"):
		w = w[:n-2]
	case strings.HasSuffix(w, "ches") || strings.HasSuffix(w, "shes") || strings.HasSuffix(w, "xes"):
		w = w[:n-2]
	case strings.HasSuffix(w, "ss") || strings.HasSuffix(w, "us") || strings.HasSuffix(w, "is"):
	case strings.HasSuffix(w, "s"):
		w = w[:n-1]
	}
	n = len(w)
	switch {
	case strings.HasSuffix(w, "ing") && n >= 6:
		w = undouble(w[:n-3])
	case strings.HasSuffix(w, "ied") && n > 4:
		w = w[:n-3] + "y"
	case strings.HasSuffix(w, "ed") && n >= 5:
		w = undouble(w[:n-2])
	}
	if n = len(w); n >= 4 && w[n-1] == 'e' {
		w = w[:n-1]
	}
	return w
}

// undouble turns "plann" (from "planned") into "plan"; ll, ss, zz stay.
func undouble(w string) string {
	n := len(w)
	if n >= 3 && w[n-1] == w[n-2] && !strings.ContainsRune("aeioulsz", rune(w[n-1])) {
		return w[:n-1]
	}
	return w
}

// fieldTexts lists, per field, the separate values of a product: phrases
// are formed within one value, never across two.
func fieldTexts(p *Product) [numFields][]string {
	var f [numFields][]string
	f[fName] = []string{p.Name}
	f[fSynonym] = p.Synonyms
	f[fTag] = p.Tags
	f[fDomain] = []string{p.Domain}
	f[fDataProduct] = []string{p.DataProduct}
	f[fDescription] = []string{p.Purpose, p.Usage, p.Limitations}
	if p.Purpose == "" {
		f[fDescription] = []string{p.Description}
	}
	for _, c := range p.Columns {
		f[fColumnName] = append(f[fColumnName], c.Name)
		f[fColumnDesc] = append(f[fColumnDesc], c.Description)
		f[fColumnSyn] = append(f[fColumnSyn], c.Synonyms...)
		f[fColumnValue] = append(f[fColumnValue], c.Values...)
	}
	for _, m := range p.Metrics {
		f[fMetricName] = append(f[fMetricName], m.Name)
		f[fMetricDesc] = append(f[fMetricDesc], m.Description)
		f[fMetricSyn] = append(f[fMetricSyn], m.Synonyms...)
	}
	return f
}

// phrase joins two terms into a pair term; the space cannot occur in a
// word term.
func phrase(a, b string) string { return a + " " + b }

func newSearchIndex(docs []*Product) *searchIndex {
	ix := &searchIndex{docs: docs, terms: map[string]int32{}, deletes: map[string][]int32{}}
	type fieldStats struct {
		tf  map[string]int
		len int
	}
	// Pass 1: term frequencies per field, and average field lengths.
	stats := make([][numFields]fieldStats, len(docs))
	var totalLen [numFields]float64
	for d, p := range docs {
		texts := fieldTexts(p)
		for f := 0; f < numFields; f++ {
			fs := fieldStats{tf: map[string]int{}}
			for _, text := range texts[f] {
				ts := terms(text)
				for i, t := range ts {
					fs.tf[t]++
					if i > 0 && ts[i-1] != t {
						fs.tf[phrase(ts[i-1], t)]++
					}
				}
				fs.len += len(ts)
			}
			stats[d][f] = fs
			totalLen[f] += float64(fs.len)
		}
	}
	var avgLen [numFields]float64
	for f := range avgLen {
		avgLen[f] = math.Max(totalLen[f]/math.Max(float64(len(docs)), 1), 1)
	}
	// Pass 2: BM25F pseudo-frequency per (term, product), saturated.
	acc := map[string]float64{}
	for d := range docs {
		clear(acc)
		for f := 0; f < numFields; f++ {
			fs := stats[d][f]
			norm := 1 - bm25B + bm25B*float64(fs.len)/avgLen[f]
			for t, n := range fs.tf {
				acc[t] += fieldWeights[f] * float64(n) / norm
			}
		}
		for t, tf := range acc {
			id, ok := ix.terms[t]
			if !ok {
				id = int32(len(ix.postings))
				ix.terms[t] = id
				ix.postings = append(ix.postings, nil)
				ix.words = append(ix.words, t)
			}
			ix.postings[id] = append(ix.postings[id], posting{doc: int32(d), w: float32(tf / (tf + bm25K1))})
		}
	}
	ix.names = make([][]posting, len(ix.postings))
	for d, p := range docs {
		var uniq []string
		for _, t := range terms(p.Name) {
			if indexOf(uniq, t) < 0 {
				uniq = append(uniq, t)
			}
		}
		for _, t := range uniq {
			id := ix.terms[t]
			ix.names[id] = append(ix.names[id], posting{doc: int32(d), w: float32(1 / float64(len(uniq)))})
		}
	}
	n := float64(len(docs))
	ix.idf = make([]float64, len(ix.postings))
	for id, ps := range ix.postings {
		df := float64(len(ps))
		ix.idf[id] = math.Log(1 + (n-df+0.5)/(df+0.5))
	}
	for id, w := range ix.words {
		if strings.IndexByte(w, ' ') >= 0 || len(w) < 4 {
			continue
		}
		// Two deletions cover every pair within two edits of a query word.
		for _, del := range deletions(w, 2) {
			ix.deletes[del] = append(ix.deletes[del], int32(id))
		}
	}
	ix.scratch.New = func() any { return &scratch{score: make([]float64, len(docs))} }
	return ix
}

// maxEdits is the typo tolerance for a query word of n letters.
func maxEdits(n int) int {
	switch {
	case n >= 8:
		return 2
	case n >= 5:
		return 1
	}
	return 0
}

// deletions returns w and every string made by deleting up to k letters
// (bytes: index terms are compared bytewise) from it.
func deletions(w string, k int) []string {
	out := []string{w}
	level := []string{w}
	seen := map[string]bool{w: true}
	for e := 0; e < k; e++ {
		var next []string
		for _, s := range level {
			for i := 0; i < len(s); i++ {
				d := s[:i] + s[i+1:]
				if !seen[d] {
					seen[d] = true
					next = append(next, d)
					out = append(out, d)
				}
			}
		}
		level = next
	}
	return out
}

type scratch struct {
	score   []float64
	touched []int32
}

// queryTerm is one term of a query with its weight.
type queryTerm struct {
	id     int32
	weight float64
}

// resolveWord finds the index terms for one query word: itself when
// known, else the closest spellings.
func (ix *searchIndex) resolveWord(raw, t string) (matches []queryTerm, best string) {
	if id, ok := ix.terms[t]; ok {
		return []queryTerm{{id, 1}}, t
	}
	k := maxEdits(len([]rune(raw)))
	if k == 0 {
		return nil, ""
	}
	cands := map[int32]bool{}
	for _, del := range deletions(t, k) {
		for _, id := range ix.deletes[del] {
			cands[id] = true
		}
	}
	bestDist := k + 1
	var ids []int32
	tr := []rune(t)
	for id := range cands {
		d := editDistance(tr, []rune(ix.words[id]), k+1)
		switch {
		case d > k:
		case d < bestDist:
			bestDist, ids = d, []int32{id}
		case d == bestDist:
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil, ""
	}
	// Deterministic choice among equally close words.
	sort.Slice(ids, func(i, j int) bool { return ix.words[ids[i]] < ix.words[ids[j]] })
	w := fuzzyWeight1
	if bestDist == 2 {
		w = fuzzyWeight2
	}
	for _, id := range ids {
		matches = append(matches, queryTerm{id, w})
	}
	return matches, ix.words[ids[0]]
}

func (ix *searchIndex) search(query string, limit int) []Hit {
	if len(ix.docs) == 0 {
		return nil
	}
	var qterms []queryTerm
	seen := map[int32]bool{}
	addTerm := func(q queryTerm) {
		if !seen[q.id] {
			seen[q.id] = true
			qterms = append(qterms, q)
		}
	}
	prev := ""
	for _, raw := range tokenize(query) {
		if stopwords[raw] {
			continue
		}
		matches, best := ix.resolveWord(raw, Stem(raw))
		for _, m := range matches {
			addTerm(m)
		}
		if prev != "" && best != "" && prev != best {
			if id, ok := ix.terms[phrase(prev, best)]; ok {
				addTerm(queryTerm{id, phraseWeight})
			}
		}
		prev = best
	}
	if len(qterms) == 0 {
		return nil
	}
	s := ix.scratch.Get().(*scratch)
	defer ix.scratch.Put(s)
	for _, q := range qterms {
		w := ix.idf[q.id] * q.weight
		for _, p := range ix.postings[q.id] {
			if s.score[p.doc] == 0 {
				s.touched = append(s.touched, p.doc)
			}
			s.score[p.doc] += w * float64(p.w)
		}
		for _, p := range ix.names[q.id] {
			s.score[p.doc] += nameCover * w * float64(p.w)
		}
	}
	hits := ix.top(s, limit)
	for _, d := range s.touched {
		s.score[d] = 0
	}
	s.touched = s.touched[:0]
	return hits
}

// top returns the best limit hits (all when limit <= 0), best first; ties
// by name.
func (ix *searchIndex) top(s *scratch, limit int) []Hit {
	better := func(a, b int32) bool {
		if s.score[a] != s.score[b] {
			return s.score[a] > s.score[b]
		}
		return ix.docs[a].Name < ix.docs[b].Name
	}
	var docs []int32
	if limit <= 0 || limit >= len(s.touched) {
		docs = append(docs, s.touched...)
		sort.Slice(docs, func(i, j int) bool { return better(docs[i], docs[j]) })
	} else {
		h := &docHeap{less: func(a, b int32) bool { return better(b, a) }}
		for _, d := range s.touched {
			if h.Len() < limit {
				heap.Push(h, d)
			} else if better(d, h.docs[0]) {
				h.docs[0] = d
				heap.Fix(h, 0)
			}
		}
		docs = make([]int32, h.Len())
		for i := len(docs) - 1; i >= 0; i-- {
			docs[i] = heap.Pop(h).(int32)
		}
	}
	hits := make([]Hit, len(docs))
	for i, d := range docs {
		hits[i] = Hit{Product: ix.docs[d], Score: s.score[d]}
	}
	return hits
}

// docHeap keeps the worst of the best on top.
type docHeap struct {
	docs []int32
	less func(a, b int32) bool
}

func (h *docHeap) Len() int           { return len(h.docs) }
func (h *docHeap) Less(i, j int) bool { return h.less(h.docs[i], h.docs[j]) }
func (h *docHeap) Swap(i, j int)      { h.docs[i], h.docs[j] = h.docs[j], h.docs[i] }
func (h *docHeap) Push(x any)         { h.docs = append(h.docs, x.(int32)) }
func (h *docHeap) Pop() any {
	x := h.docs[len(h.docs)-1]
	h.docs = h.docs[:len(h.docs)-1]
	return x
}
