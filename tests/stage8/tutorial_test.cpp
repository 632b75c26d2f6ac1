// Stage 8, black-box: the course's Docker tutorial's Compose app — a Flask
// page that counts its hits in redis — run by `box compose` from the
// tutorial's own files, and reached on the published port as the tutorial's
// reader reaches it with curl.
//
// The tutorial pulls python:3.7-alpine and redis:alpine from Docker Hub, which
// no test may reach. tests/tools/make-python-image.sh makes their stand-in
// offline beforehand, from Debian's packages (python3-flask, python3-redis,
// redis-server): that needs the Debian mirror, so it runs outside the test's
// private network namespace (.ci/run runs it before `make test`). Without it
// the test says why it is skipped, and passes.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <thread>

#include "../stage7/support.hpp"
#include "support.hpp"

using namespace boxtest;

namespace {

// The tutorial's app.py, verbatim.
const char* kAppPy = R"(import time

import redis
from flask import Flask

app = Flask(__name__)
cache = redis.Redis(host='redis', port=6379)


def get_hit_count():
    retries = 5
    while True:
        try:
            return cache.incr('hits')
        except redis.exceptions.ConnectionError as exc:
            if retries == 0:
                raise exc
            retries -= 1
            time.sleep(0.5)


@app.route('/')
def hello():
    count = get_hit_count()
    return 'Hello World! I have been seen {} times.\n'.format(count)
)";

// The tutorial's Dockerfile, adapted only where the base image differs:
// - FROM: python:3.7-alpine is on Docker Hub; its stand-in is Debian's python3
//   (3.11) with Flask and redis-py already installed, imported below.
// - `RUN apk add --no-cache gcc musl-dev linux-headers` is gone: there is no apk
//   in a Debian image, and nothing to compile (pip built markupsafe's C part with
//   them; Debian ships it built).
// - `RUN pip install -r requirements.txt` needs PyPI. In its place a RUN that
//   reads the same requirements.txt and imports each package, so the COPY
//   before it still matters and the build still runs a step in a container.
// Everything else is the tutorial's: WORKDIR, the two ENV lines in their old
// `ENV key value` form, both COPYs and the CMD.
const char* kDockerfile = R"(FROM box-tutorial/python:3
WORKDIR /code
ENV FLASK_APP app.py
ENV FLASK_RUN_HOST 0.0.0.0
COPY requirements.txt requirements.txt
RUN python3 -c "import importlib; [importlib.import_module(l.strip()) for l in open('requirements.txt') if l.strip()]"
COPY . .
CMD ["flask", "run"]
)";

// The tutorial's compose file, unchanged: redis:alpine is the stand-in image
// imported under that name.
const char* kCompose = R"(version: '3'
services:
  web:
    build: .
    ports:
     - "5000:5000"
    volumes:
     - .:/code
     - logvolume01:/var/log
    links:
     - redis
  redis:
    image: "redis:alpine"
volumes:
  logvolume01: {}
)";

// The tar make-python-image.sh made, or "" with `why` saying why there is none.
std::string tutorial_image_tar(std::string& why) {
    // --offline: only looks (the mirror is out of this namespace's reach anyway).
    auto r = run({"bash", kit_root() + "/tests/tools/make-python-image.sh", "--offline"});
    if (r.status == 0) return trim(r.out);
    auto said = lines(r.err);
    why = said.empty() ? "make-python-image.sh --offline: exit " + std::to_string(r.status) : said.back();
    return "";
}

}  // namespace

TEST_CASE("the tutorial's Flask + redis app: compose up builds web, the page counts 1 then 2 hits through the "
          "published port 5000, down -v leaves nothing",
          "[stage8][tutorial]") {
    std::string why;
    std::string tar = tutorial_image_tar(why);
    if (tar.empty()) {
        WARN("skipped: " << why);
        return;
    }
    Sandbox sb;
    RunOptions slow;  // a 180 MB root filesystem to import, a build, a start
    slow.timeout = std::chrono::seconds(120);

    // The two images the tutorial pulls, from one root filesystem. redis:alpine's
    // entrypoint turns protected mode off when no config file is given, so that
    // other containers may connect; Debian's redis-server has it on: the CMD says so.
    auto r = sb.box({"import", "-c", "CMD [\"python3\"]", tar, "box-tutorial/python:3"}, slow);
    BOX_SHOW(r);
    REQUIRE(r.status == 0);
    // The same layer with another CMD: a build, not a second import of 180 MB.
    std::string redis = make_project(sb, "redis-image", {{"Dockerfile",
        "FROM box-tutorial/python:3\nCMD [\"redis-server\", \"--protected-mode\", \"no\"]\n"}});
    r = sb.box({"build", "-q", "-t", "redis:alpine", redis}, slow);
    BOX_SHOW(r);
    REQUIRE(r.status == 0);

    std::string dir = make_project(sb, "composetest", {{"app.py", kAppPy},
                                                       {"requirements.txt", "flask\nredis\n"},
                                                       {"Dockerfile", kDockerfile},
                                                       {"docker-compose.yml", kCompose}});
    ProjectGuard guard{sb, dir};
    r = compose(sb, dir, {"up", "-d"}, slow);
    BOX_SHOW(r);
    REQUIRE(r.status == 0);

    // The test's namespace is the containers' host: port 5000 on its 127.0.0.1.
    // Flask takes a while to start; until it serves, wget fails and is tried
    // again (a refused connection is not a hit), at most 30 s.
    std::string first;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (first.empty() && std::chrono::steady_clock::now() < deadline) first = http_get("127.0.0.1", 5000, 1);
    INFO("the project's logs:\n" << compose(sb, dir, {"logs"}).out);
    CHECK(first == "Hello World! I have been seen 1 times.\n");
    CHECK(http_get("127.0.0.1", 5000, 1) == "Hello World! I have been seen 2 times.\n");

    // web was built from the Dockerfile, with the tutorial's settings.
    auto web = inspect_container(sb, "composetest-web-1");
    CHECK(web["Config"]["WorkingDir"] == "/code");
    CHECK(web["Config"]["Cmd"] == nlohmann::json({"flask", "run"}));
    auto env = web["Config"]["Env"];
    CHECK(std::find(env.begin(), env.end(), "FLASK_APP=app.py") != env.end());
    CHECK(std::find(env.begin(), env.end(), "FLASK_RUN_HOST=0.0.0.0") != env.end());

    r = compose(sb, dir, {"down", "-v", "-t", "1"}, slow);
    BOX_SHOW(r);
    CHECK(r.status == 0);
    CHECK(sb.box({"ps", "-aq"}).out.empty());
    CHECK(lines(sb.box({"network", "ls", "-q", "--filter", "label=com.docker.compose.project=composetest"}).out).empty());
    CHECK(sb.box({"volume", "ls", "-q"}).out.empty());
    CHECK(sb.leftovers().empty());
}
