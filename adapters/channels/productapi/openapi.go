package productapi

import (
	"net/http"

	"github.com/askmesh/askmesh/catalog"
)

// OpenAPI returns the OpenAPI 3.1 document of a product's API, generated
// from its descriptor: its columns become the record schema and the filter
// parameters, its metrics and dimensions the enums of the metrics endpoint.
func OpenAPI(p *catalog.Product) map[string]any {
	type obj = map[string]any
	base := "/products/" + p.Name
	problem := obj{"description": "an RFC 9457 problem", "content": obj{"application/problem+json": obj{"schema": obj{"$ref": "#/components/schemas/Problem"}}}}
	errs := obj{"400": problem, "401": problem, "403": problem, "404": problem, "503": problem}
	withErrs := func(ok obj) obj {
		out := obj{"200": ok}
		for k, v := range errs {
			out[k] = v
		}
		return out
	}
	page := func(desc string) obj {
		return obj{"description": desc, "content": obj{
			"application/json": obj{"schema": obj{"$ref": "#/components/schemas/Page"}},
			"text/csv":         obj{"schema": obj{"type": "string"}}}}
	}
	param := func(name, in, desc string, schema obj) obj {
		return obj{"name": name, "in": in, "description": desc, "schema": schema}
	}
	str := obj{"type": "string"}
	var filters []any
	props := obj{}
	for _, c := range p.Columns {
		s := columnSchema(c)
		props[c.Name] = s
		if c.Classification == catalog.ClassRestricted {
			continue // never returned, never filtered
		}
		filters = append(filters, param(c.Name, "query", "equal to (repeat for several filters)", s))
		for _, op := range []string{"ne", "lt", "lte", "gt", "gte", "contains"} {
			if op == "contains" && c.Type != catalog.TypeString {
				continue
			}
			filters = append(filters, param(c.Name+"["+op+"]", "query", op+" filter on "+c.Name, s))
		}
		for _, op := range []string{"in", "nin", "between"} {
			filters = append(filters, obj{"name": c.Name + "[" + op + "]", "in": "query", "description": op + " filter on " + c.Name + " (repeat the parameter, or separate values with commas)",
				"schema": obj{"type": "array", "items": s}, "style": "form", "explode": true})
		}
		if c.Nullable {
			filters = append(filters, param(c.Name+"[null]", "query", "true: is null; false: is not null", obj{"type": "boolean"}))
		}
	}
	timeParams := []any{
		param("start_date", "query", "start of the time range on "+p.TimeColumn+" (date or RFC 3339 instant, inclusive)", str),
		param("end_date", "query", "end of the time range (a date is inclusive, an RFC 3339 instant exclusive)", str),
		param("time_range", "query", "a named period (last_month, last_7_days, this_year, ...), ISO period or FROM..TO range", str),
	}
	limit := param("limit", "query", "maximum rows (default 100, at most 1000)", obj{"type": "integer", "minimum": 1, "maximum": 1000})
	paths := obj{}
	paths[base] = obj{"get": obj{"operationId": "describe", "summary": "The product's descriptor, with each column's access for the caller",
		"responses": withErrs(obj{"description": "descriptor", "content": obj{"application/json": obj{"schema": obj{"type": "object"}}}})}}
	if p.Has(catalog.CapRecords) {
		params := append(append([]any{}, filters...), timeParams...)
		params = append(params,
			param("columns", "query", "comma-separated columns to return", str),
			param("sort", "query", "comma-separated columns, - for descending (e.g. -amount)", str),
			limit,
			param("cursor", "query", "the cursor of the next link of a previous page", str),
			param("offset", "query", "rows to skip (an alternative to cursor)", obj{"type": "integer", "minimum": 0}))
		paths[base+"/records"] = obj{"get": obj{"operationId": "listRecords", "summary": "Records of " + p.Name,
			"parameters": params, "responses": withErrs(page("a page of records; links.next continues it"))}}
		if p.TimeColumn != "" && p.KeyColumn != "" {
			paths[base+"/stream"] = obj{"get": obj{"operationId": "streamRecords", "summary": "New records as Server-Sent Events (event: record)",
				"responses": withErrs(obj{"description": "an event stream", "content": obj{"text/event-stream": obj{"schema": str}}})}}
		}
	}
	if p.Has(catalog.CapGet) {
		paths[base+"/records/{id}"] = obj{"get": obj{"operationId": "getRecord", "summary": "One record by " + p.KeyColumn,
			"parameters": []any{obj{"name": "id", "in": "path", "required": true, "schema": str}},
			"responses":  withErrs(page("the record"))}}
	}
	if p.Has(catalog.CapMetrics) {
		params := []any{
			obj{"name": "metrics", "in": "query", "description": "comma-separated metrics", "schema": obj{"type": "array", "items": obj{"type": "string", "enum": p.MetricNames()}}, "style": "form", "explode": false},
			obj{"name": "group_by", "in": "query", "description": "comma-separated dimensions", "schema": obj{"type": "array", "items": obj{"type": "string", "enum": nonNil(p.Dimensions)}}, "style": "form", "explode": false},
			param("time_grain", "query", "adds a period column", obj{"type": "string", "enum": []string{"day", "week", "month", "quarter", "year"}}),
			param("compare_to", "query", "adds previous value, change and percent change", obj{"type": "string", "enum": []string{"previous_period", "previous_year"}}),
			param("sort", "query", "a metric or dimension, - for descending", str), limit,
		}
		params = append(append(params, filters...), timeParams...)
		paths[base+"/metrics"] = obj{"get": obj{"operationId": "queryMetrics", "summary": "Declared metrics of " + p.Name,
			"parameters": params, "responses": withErrs(page("aggregated rows"))}}
	}
	if p.Has(catalog.CapAnomalies) {
		params := append(append([]any{limit}, filters...), timeParams...)
		paths[base+"/anomalies"] = obj{"get": obj{"operationId": "findAnomalies", "summary": "Unusual records of " + p.Name,
			"parameters": params, "responses": withErrs(page("anomalous records"))}}
	}
	paths[base+"/openapi.json"] = obj{"get": obj{"operationId": "openapi", "summary": "This document", "security": []any{},
		"responses": obj{"200": obj{"description": "OpenAPI 3.1", "content": obj{"application/json": obj{"schema": obj{"type": "object"}}}}}}}
	return obj{
		"openapi": "3.1.0",
		"info": obj{"title": p.Name + " data product API", "version": orDefault(p.Version, "1.0.0"), "description": p.Description,
			"contact": obj{"name": p.Owner}, "x-domain": p.Domain},
		"servers":  []any{obj{"url": "/"}},
		"security": []any{obj{"bearer": []any{}}},
		"paths":    paths,
		"components": obj{
			"securitySchemes": obj{"bearer": obj{"type": "http", "scheme": "bearer", "bearerFormat": "JWT or static token",
				"description": "an askmesh-signed EdDSA JWT (aud = " + p.Name + ", sub = the asker) or a static token"}},
			"schemas": obj{
				"Record": obj{"type": "object", "properties": props},
				"Page": obj{"type": "object", "required": []string{"product", "columns", "data", "row_count"}, "properties": obj{
					"product":     str,
					"columns":     obj{"type": "array", "items": obj{"type": "object", "properties": obj{"name": str, "type": str, "role": str, "metric": str, "unit": str}}},
					"data":        obj{"type": "array", "items": obj{"$ref": "#/components/schemas/Record"}},
					"row_count":   obj{"type": "integer"},
					"total_count": obj{"type": "integer"},
					"masked":      obj{"type": "object", "additionalProperties": str},
					"notes":       obj{"type": "array", "items": str},
					"audit_id":    str,
					"links":       obj{"type": "object", "properties": obj{"next": str}},
				}},
				"Problem": obj{"type": "object", "required": []string{"type", "title", "status"}, "properties": obj{
					"type": str, "title": str, "status": obj{"type": "integer"}, "detail": str, "instance": str, "audit_id": str}},
			},
		},
	}
}

func columnSchema(c catalog.Column) map[string]any {
	s := map[string]any{"description": c.Description, "x-classification": c.Classification}
	var typ string
	switch c.Type {
	case catalog.TypeInteger:
		typ = "integer"
	case catalog.TypeNumber:
		typ = "number"
	case catalog.TypeBoolean:
		typ = "boolean"
	case catalog.TypeDate:
		typ, s["format"] = "string", "date"
	case catalog.TypeTimestamp:
		typ, s["format"] = "string", "date-time"
	default:
		typ = "string"
	}
	if len(c.Values) > 0 {
		enum := make([]any, 0, len(c.Values)+1)
		for _, v := range c.Values {
			enum = append(enum, v)
		}
		if c.Nullable {
			enum = append(enum, nil) // JSON Schema: null must be listed too
		}
		s["enum"] = enum
	}
	if c.Nullable {
		s["type"] = []string{typ, "null"}
	} else {
		s["type"] = typ
	}
	return s
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (s *Server) openapi(w http.ResponseWriter, r *http.Request) {
	doc, ok := s.openapis[r.PathValue("name")]
	if !ok {
		writeProblem(w, r, http.StatusNotFound, "product-not-found", "Product not found", "no such product on this server")
		return
	}
	writeJSONHeader(w, http.StatusOK)
	_, _ = w.Write(doc)
}
