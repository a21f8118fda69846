# denomq: one binary, role chosen by subcommand. The binary is granted what the roles need
# together (network; read/write ./store; read ./conf; DENOMQ_* environment; statfs), paths
# relative to the working directory /data, and each role drops the rest at start (a NameServer
# keeps only the network once it has read its config; `admin` cannot read or write files).
#   docker build -t denomq .
#   docker run -p 9876:9876 denomq nameserver
#   docker run -p 10911:10911 -p 10909:10909 -v denomq-data:/data denomq broker -n nameserver:9876 \
#     --store /data/store --set brokerIP1=<reachable ip>
#   HTTP admin and dashboard: add -p 8080:8080 -e DENOMQ_HTTP_TOKEN=<16+ chars> and
#     --http-port 8080 --http-host 0.0.0.0 (off loopback a token is required).
# Config files (broker.conf, namesrv.conf, plain_acl.yml) go in /data/conf (read-only mount is fine).
FROM denoland/deno:2.9.6 AS build
WORKDIR /src
COPY deno.json deno.lock ./
COPY main.ts ./
COPY protocol/ protocol/
COPY remoting/ remoting/
COPY nameserver/ nameserver/
COPY broker/ broker/
COPY client/ client/
COPY admin/ admin/
COPY ops/ ops/
COPY http/ http/
# The commit log's flush worker is loaded with `new Worker`, which deno compile only embeds when included.
RUN deno compile --allow-net --allow-read=./store,./conf --allow-write=./store \
    --allow-env --allow-sys=statfs --include broker/store/flush_worker.ts --output /out/denomq main.ts

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/denomq /usr/local/bin/denomq
USER nonroot
WORKDIR /data
VOLUME ["/data"]
# NameServer, broker, broker VIP (listenPort - 2), HTTP admin (when --http-port 8080).
EXPOSE 9876 10911 10909 8080
ENTRYPOINT ["/usr/local/bin/denomq"]
CMD ["dev", "--data", "/data/store", "--host", "0.0.0.0"]
