//! `Dockerfile`, `.dockerignore` and `deploy/kubernetes.yaml`: a small non-root image and a
//! Deployment whose probes, environment and termination period match the service.

use std::fmt::Write as _;

pub fn dockerfile(binary: &str, port: &str, header: &str) -> String {
    format!(
        "# {header}
# Build: docker build -t {binary} .
FROM rust:1-bookworm AS build
WORKDIR /src
# Dependencies first, so a source change does not rebuild them.
COPY Cargo.toml Cargo.lock* ./
RUN mkdir src && echo 'fn main() {{}}' > src/main.rs && touch src/lib.rs \\
    && cargo build --release \\
    && rm -rf src
COPY . .
RUN touch src/main.rs src/lib.rs && cargo build --release

FROM debian:bookworm-slim
# ca-certificates follows the base image's security updates; a pinned version would break
# the build whenever Debian replaces it.
# hadolint ignore=DL3008
RUN apt-get update \\
    && apt-get install -y --no-install-recommends ca-certificates \\
    && rm -rf /var/lib/apt/lists/* \\
    && useradd --system --uid 10001 --home-dir /app --create-home service
WORKDIR /app
COPY --from=build /src/target/release/{binary} /usr/local/bin/{binary}
USER 10001
ENV HOST=0.0.0.0 PORT={port} LOG_FORMAT=json
EXPOSE {port}
STOPSIGNAL SIGTERM
ENTRYPOINT [\"/usr/local/bin/{binary}\"]
"
    )
}

pub fn dockerignore(header: &str) -> String {
    format!("# {header}\ntarget/\n.svcc/\n*.db\n*.db-shm\n*.db-wal\n.env\n")
}

/// A variable the Deployment takes from the service's Secret; `optional` ones may be absent.
pub struct SecretVar<'a> {
    pub name: &'a str,
    pub optional: bool,
}

/// Secrets come from a Secret named after the service; the rest keep their defaults.
pub fn kubernetes(
    binary: &str,
    port: &str,
    secrets: &[SecretVar],
    shutdown_secs: u32,
    header: &str,
) -> String {
    let name = binary.replace('_', "-");
    let mut env = String::new();
    for s in secrets {
        let _ = write!(
            env,
            "\n            - name: {var}\n              valueFrom:\n                secretKeyRef:\n                  name: {name}\n                  key: {var}\n                  optional: {}",
            s.optional,
            var = s.name,
        );
    }
    let _ = write!(
        env,
        "\n            - name: LOG_FORMAT\n              value: json\n            - name: SHUTDOWN_TIMEOUT_SECS\n              value: \"{shutdown_secs}\""
    );
    // Kubernetes kills the pod after the grace period: leave the drain time plus a margin.
    let grace = shutdown_secs + 10;
    format!(
        "# {header}
# Apply: kubectl create secret generic {name} --from-env-file=.env
#        kubectl apply -f deploy/kubernetes.yaml
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  labels:
    app: {name}
spec:
  replicas: 2
  selector:
    matchLabels:
      app: {name}
  template:
    metadata:
      labels:
        app: {name}
    spec:
      terminationGracePeriodSeconds: {grace}
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
      containers:
        - name: {name}
          image: {name}:latest
          ports:
            - name: http
              containerPort: {port}
          env:{env}
          livenessProbe:
            httpGet:
              path: /health
              port: http
            periodSeconds: 10
            failureThreshold: 3
          readinessProbe:
            httpGet:
              path: /health/ready
              port: http
            periodSeconds: 5
            failureThreshold: 2
          resources:
            requests:
              cpu: 100m
              memory: 64Mi
            limits:
              memory: 256Mi
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
---
apiVersion: v1
kind: Service
metadata:
  name: {name}
spec:
  selector:
    app: {name}
  ports:
    - name: http
      port: 80
      targetPort: http
"
    )
}
