# A reproducible askmesh image: a static binary (CGO off: SQLite is pure Go) on
# distroless, running as nonroot. Everything askmesh serves is embedded in the
# binary (web pages, policies, the demo mesh): nothing is downloaded at run time.
# Build without a Docker daemon with ko (.ko.yaml) or buildah/kaniko from this
# file; docs/deployment.md. Pin both base images by digest in production.
FROM golang:1.26.8-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# -trimpath and no build id: the same source gives the same binary.
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags="-s -w -buildid=" -o /out/askmesh ./cmd/askmesh \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/askmesh /usr/local/bin/askmesh
# askmesh never creates its data directory (a mistyped one would hide the real data).
COPY --from=build --chown=65532:65532 /out/data /var/lib/askmesh
USER nonroot:nonroot
EXPOSE 8080
# Mount the configuration at /etc/askmesh; /var/lib/askmesh holds the embedded
# stores when PostgreSQL holds none (a volume).
VOLUME ["/var/lib/askmesh"]
ENTRYPOINT ["/usr/local/bin/askmesh"]
CMD ["serve", "--config", "/etc/askmesh/askmesh.yaml", "--data-dir", "/var/lib/askmesh", "--addr", "0.0.0.0:8080"]
