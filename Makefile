# The two set-up commands (see README): `make demo` and `make test`.
# Each installs what it needs (a pinned moto, hadolint and cfn-lint in .venv; `make test`
# also Debian's chromium and lintian, and a pinned cargo-deb in .venv) and says what it
# runs. `make deb` builds the Debian package from a release build.

.PHONY: demo test ci bench deb

demo:
	scripts/demo.sh

test:
	scripts/chromium.sh
	scripts/with-moto.sh cargo test --locked --no-fail-fast
	scripts/check-packaging.sh
	scripts/check-deb.sh

ci:
	bash .ci/run

bench:
	scripts/venv.sh
	scripts/with-moto.sh .venv/bin/python scripts/bench.py

deb:
	scripts/deb-build.sh
