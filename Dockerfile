# Multi-stage build: a static binary on a distroless, non-root base.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 make build VERSION=${VERSION} && cp bin/multicluster-mcp-server /multicluster-mcp-server

FROM gcr.io/distroless/static:nonroot
COPY --from=build /multicluster-mcp-server /usr/local/bin/multicluster-mcp-server
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/multicluster-mcp-server"]
CMD ["serve", "--transport=http", "--listen=0.0.0.0:8080"]
