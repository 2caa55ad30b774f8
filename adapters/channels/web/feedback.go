package web

import (
	"context"
	"errors"
	"net/http"

	"github.com/askmesh/askmesh/feedback"
	"github.com/askmesh/askmesh/tools"
)

// FeedbackService takes and serves feedback; *feedback.Service implements it.
type FeedbackService interface {
	Submit(ctx context.Context, caller tools.Caller, sub feedback.Submission) (*feedback.Entry, error)
	ForProduct(ctx context.Context, viewer tools.Caller, product string, f feedback.Filter) ([]feedback.Entry, error)
}

type feedbackRequest struct {
	RequestID      string `json:"request_id"`
	Rating         string `json:"rating"` // up or down
	Comment        string `json:"comment"`
	ConversationID string `json:"conversation_id"`
	// Question and Answer are what the client showed; for answers that
	// made tool calls the audit log's question is kept instead.
	Question string `json:"question"`
	Answer   string `json:"answer"`
}

// feedbackRoutes serves POST /v1/feedback (anyone, on their own answers)
// and GET /v1/feedback?product=P (the product's team, decided by policy).
func (s *Server) feedbackRoutes() {
	if s.o.Feedback == nil {
		return
	}
	s.handle("POST /v1/feedback", authed, s.postFeedback)
	s.handle("GET /v1/feedback", authed, s.listFeedback)
	// The web chat's and review page's own routes: recorded as channel web.
	s.handle("POST /v1/web/feedback", authed, s.postFeedback)
	s.handle("GET /v1/web/feedback", authed, s.listFeedback)
}

func (s *Server) postFeedback(w http.ResponseWriter, r *http.Request) {
	var req feedbackRequest
	if !decodeJSON(w, r, &req, true, s.lim.MaxBodyBytes) {
		return
	}
	e, err := s.o.Feedback.Submit(r.Context(), callerOf(r, channelOf(r)), feedback.Submission{RequestID: req.RequestID,
		ConversationID: req.ConversationID, Rating: req.Rating, Comment: req.Comment, Question: req.Question, Answer: req.Answer})
	if err != nil {
		s.feedbackError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e)
}

func (s *Server) listFeedback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	product := q.Get("product")
	if product == "" {
		writeError(w, http.StatusBadRequest, "invalid_request", "product is required: GET /v1/feedback?product=NAME")
		return
	}
	rating := q.Get("rating")
	if rating != "" && rating != feedback.Up && rating != feedback.Down {
		writeError(w, http.StatusBadRequest, "invalid_request", "rating is up or down")
		return
	}
	entries, err := s.o.Feedback.ForProduct(r.Context(), callerOf(r, channelOf(r)), product, feedback.Filter{Rating: rating, Limit: 500})
	if err != nil {
		s.feedbackError(w, r, err)
		return
	}
	if entries == nil {
		entries = []feedback.Entry{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"product": product, "feedback": entries})
}

func (s *Server) feedbackError(w http.ResponseWriter, r *http.Request, err error) {
	var in *feedback.InputError
	var denied *feedback.DeniedError
	switch {
	case errors.As(err, &in):
		writeError(w, http.StatusBadRequest, "invalid_request", in.Message)
	case errors.As(err, &denied):
		writeError(w, http.StatusForbidden, "forbidden", denied.Reason+" (audit "+denied.AuditID+")")
	default:
		s.log.ErrorContext(r.Context(), "feedback failed", "err", err)
		writeError(w, http.StatusServiceUnavailable, "unavailable", "feedback could not be recorded; try again")
	}
}
