# Castellan in a container: built with the Rust toolchain, run on a slim base.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked

FROM debian:bookworm-slim
RUN useradd --system --home /var/lib/castellan --create-home castellan
COPY --from=build /src/target/release/castellan /usr/local/bin/castellan
USER castellan
WORKDIR /var/lib/castellan
ENV CASTELLAN_LISTEN=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["castellan"]
CMD ["serve"]
