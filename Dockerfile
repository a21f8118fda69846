# denomq: one binary, role chosen by subcommand.
#   docker build -t denomq .
#   docker run -p 9876:9876 denomq nameserver
#   docker run -p 10911:10911 -p 10909:10909 -v denomq-store:/data denomq broker -n nameserver:9876 --set brokerIP1=<reachable ip>
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
RUN deno compile --allow-net --allow-read --allow-write --allow-env --output /out/denomq main.ts

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/denomq /usr/local/bin/denomq
USER nonroot
WORKDIR /data
VOLUME ["/data"]
EXPOSE 9876 10909 10911
ENTRYPOINT ["/usr/local/bin/denomq"]
CMD ["dev", "--data", "/data", "--host", "0.0.0.0"]
