# syntax=docker/dockerfile:1
# The tidings binary for `tidings worker`, `tidings api` and the operator
# commands. Build: docker build -t tidings --build-arg VERSION=$(git describe --tags --always) .
FROM golang:1.26-bookworm AS build
WORKDIR /src
ENV GOTOOLCHAIN=local CGO_ENABLED=0
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/tidings ./cmd/tidings

# A static binary on distroless: no shell, no package manager, runs as an
# unprivileged user. Time zones and CA roots are inside the binary and the image.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/tidings /usr/local/bin/tidings
USER nonroot:nonroot
# 8080: tidings api (API, /metrics, /healthz, /readyz); 9464: tidings worker
# with TIDINGS_METRICS_ADDR=0.0.0.0:9464 (/metrics, /healthz, /readyz).
EXPOSE 8080 9464
ENTRYPOINT ["/usr/local/bin/tidings"]
CMD ["worker"]
