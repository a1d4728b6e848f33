# shellcheck shell=bash
# What awsenv's scripts need from the machine, and how they get it: sourced by scripts/test (all of
# it), scripts/playground and scripts/bench (parts). Each install is announced in one line saying
# what and why; when everything is there, nothing is printed.
#
# Debian packages come through apt-get (with sudo when not root). Python packages go into a private
# virtual environment, never into the system's Python: $AWSENV_VENV, by default target/awsenv-venv
# below the repository (`cargo clean` removes it). The wheels they came from are kept in
# target/awsenv-wheels, so that the environment can be made again without the network.

# shellcheck disable=SC2034 # both tables are read through needs_pick's nameref
# Debian package | a command that succeeds when it is there | why. A test that starts needing a
# program adds its line here, for example:
#   "valgrind|command -v valgrind|the memory tests run awsenv under valgrind"
needs_debian=(
    "zsh|command -v zsh|the tests run awsenv's shell functions in real zsh"
    "fish|command -v fish|the tests run awsenv's shell functions in real fish; fish_indent checks shell/*.fish"
    "shellcheck|command -v shellcheck|lints the shell code"
    "shfmt|command -v shfmt|checks the layout of the shell code"
    "tmux|command -v tmux|the terminal tests type into shells running in tmux"
    "expect|command -v expect|scripted terminal dialogues (no test uses it yet)"
    "strace|command -v strace|counts the processes that a shell function starts"
    "hyperfine|command -v hyperfine|scripts/bench times commands with it"
    "time|test -x /usr/bin/time|scripts/bench reads peak memory from /usr/bin/time"
    "curl|command -v curl|scripts/bench compares awsenv with a bare signed request"
    "jq|command -v jq|scripts/bench reads moto's call counters"
    "python3-venv|/usr/bin/python3 -c 'import ensurepip, venv'|Debian's python3 makes private Python environments with it"
    "valgrind|command -v valgrind|scripts/bench counts instructions with callgrind"
    "binutils|command -v readelf|tests/static_binary.rs reads the static build with readelf"
    "file|command -v file|tests/static_binary.rs checks the static build with file"
    "iproute2|command -v ip|tests/static_binary.rs brings up lo in a private network namespace"
    "openssh-server|test -x /usr/sbin/sshd|the SSH tests log in through a real sshd"
    "openssh-client|command -v ssh-agent|the SSH tests use ssh, ssh-keygen and ssh-agent"
    "openssl|command -v openssl|the certificate tests make their CA, keys and certificates with it"
    "softhsm2|test -e /usr/lib/softhsm/libsofthsm2.so|the certificate tests keep a key on a SoftHSM2 PKCS#11 token"
    "opensc|command -v pkcs11-tool|the certificate tests put the key and certificate on the token with pkcs11-tool"
    "util-linux|command -v flock|the --debug timing test holds an account's lock with flock"
)

# pip requirement | why. The versions are the ones the suite runs with: change them together.
needs_python=(
    "moto[server]==5.2.1|moto's server on 127.0.0.1 is the AWS that the tests and the playground talk to"
    "boto3==1.43.11|creates users, keys and MFA devices in moto"
    "awscli==1.45.11|the aws CLI, run by the tests with awsenv's credentials"
    "cryptography==48.0.0|the TLS tests make their certificates with it"
)

# needs_setup NAME: NAME prefixes every line (the calling script's name).
needs_setup() {
    needs_prefix=$1
    needs_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
    needs_venv=${AWSENV_VENV:-${needs_repo}/target/awsenv-venv}
    [[ ${needs_venv} == /* ]] || needs_venv=${PWD}/${needs_venv}
    needs_wheels=${needs_repo}/target/awsenv-wheels
    needs_log=${needs_repo}/target/awsenv-setup.log
    # install: install what is missing; check: only say what is missing (needs_missing counts it).
    needs_mode=install
    needs_missing=0
    needs_log_started=0
}

needs_say() { printf '%s: %s\n' "${needs_prefix}" "$*" >&2; }

# needs_fail MESSAGE: says it, exits 1.
needs_fail() {
    needs_say "$*"
    exit 1
}

# needs_failed STEP: STEP failed; says so with the end of the install log, exits 1.
needs_failed() {
    local shown
    shown=$(needs_shown "${needs_log}")
    needs_say "$* failed; the end of ${shown}:"
    tail -n 20 "${needs_log}" >&2
    exit 1
}

# needs_log_start: starts this run's install log (the previous run's is dropped).
needs_log_start() {
    if ((!needs_log_started)); then
        mkdir -p "$(dirname "${needs_log}")"
        : >"${needs_log}"
        needs_log_started=1
    fi
}

# needs_shown PATH: PATH relative to the repository when it is inside it.
needs_shown() {
    local path=$1
    printf '%s\n' "${path#"${needs_repo}"/}"
}

# needs_pick TABLE NAME...: sets needs_picked to the lines of TABLE (an array name) whose first
# field names one of NAME, versions and extras aside; `all` picks every line.
needs_pick() {
    local -n table=$1
    shift
    local line name wanted
    needs_picked=()
    for line in "${table[@]}"; do
        name=${line%%|*}
        name=${name%%[[=<>]*}
        for wanted in "$@"; do
            if [[ ${wanted} == all || ${wanted} == "${name}" ]]; then
                needs_picked+=("${line}")
                break
            fi
        done
    done
}

# need_debian NAME... | all: installs the Debian packages among NAME whose command is missing.
need_debian() {
    local line package probe why uid
    local -a missing=() missing_why=() root=()
    needs_pick needs_debian "$@"
    for line in "${needs_picked[@]}"; do
        IFS='|' read -r package probe why <<<"${line}"
        eval "${probe}" >/dev/null 2>&1 && continue
        missing+=("${package}")
        missing_why+=("${why}")
    done
    ((${#missing[@]} > 0)) || return 0

    # How to install, if this machine can: apt-get, as root or through sudo.
    local how=
    uid=$(id -u)
    if [[ ${needs_mode} == check ]]; then
        how="nothing installed (--no-install)"
    elif ! command -v apt-get >/dev/null; then
        how="there is no apt-get here: install them (Debian's names) with this system's package manager"
    elif [[ ${uid} != 0 ]] && ! command -v sudo >/dev/null; then
        how="installing needs root and there is no sudo; as root, run: apt-get install ${missing[*]}"
    fi
    if [[ -n ${how} ]]; then
        for line in "${!missing[@]}"; do
            needs_say "missing ${missing[line]} (Debian package): ${missing_why[line]}"
        done
        [[ ${needs_mode} == check ]] || needs_fail "${how}"
        needs_missing=$((needs_missing + ${#missing[@]}))
        return 0
    fi

    for line in "${!missing[@]}"; do
        needs_say "installing ${missing[line]} (Debian package): ${missing_why[line]}"
    done
    if [[ ${uid} != 0 ]]; then
        needs_say "running apt-get with sudo (installing needs root)"
        root=(sudo)
    fi
    needs_log_start
    "${root[@]}" apt-get update -qq >>"${needs_log}" 2>&1 || needs_failed "apt-get update"
    "${root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >>"${needs_log}" 2>&1 ||
        needs_failed "apt-get install ${missing[*]}"
    hash -r
    needs_pick needs_debian "${missing[@]}"
    for line in "${needs_picked[@]}"; do
        IFS='|' read -r package probe why <<<"${line}"
        eval "${probe}" >/dev/null 2>&1 ||
            needs_fail "${package} is installed but \`${probe}\` still fails: is its directory on PATH?"
    done
}

# need_python NAME... | all: installs the Python packages among NAME that the private environment
# lacks, making the environment first if needed. Then ${needs_venv}/bin holds python and aws.
need_python() {
    local stamp=${needs_venv}/awsenv-installed.txt shown line spec why
    shown=$(needs_shown "${needs_venv}")
    local -a missing=() missing_why=()
    needs_pick needs_python "$@"
    for line in "${needs_picked[@]}"; do
        IFS='|' read -r spec why <<<"${line}"
        if [[ -x ${needs_venv}/bin/python ]] && grep -qxF -- "${spec}" "${stamp}" 2>/dev/null; then
            continue
        fi
        missing+=("${spec}")
        missing_why+=("${why}")
    done
    ((${#missing[@]} > 0)) || return 0
    if [[ ${needs_mode} == check ]]; then
        for line in "${!missing[@]}"; do
            needs_say "missing ${missing[line]} in ${shown}: ${missing_why[line]}"
        done
        needs_missing=$((needs_missing + ${#missing[@]}))
        return 0
    fi

    needs_log_start
    if [[ ! -x ${needs_venv}/bin/python ]]; then
        need_debian python3-venv
        needs_say "creating ${shown}: a private Python environment for what follows (the system's Python is left alone)"
        rm -rf "${needs_venv}"
        python3 -m venv "${needs_venv}" >>"${needs_log}" 2>&1 || needs_failed "python3 -m venv ${shown}"
        : >"${stamp}"
    fi
    for line in "${!missing[@]}"; do
        needs_say "installing ${missing[line]} into ${shown}: ${missing_why[line]}"
    done
    local pip=("${needs_venv}/bin/python" -m pip --disable-pip-version-check)
    # From the kept wheels when they have everything; else fetch the wheels first, then install.
    if ! "${pip[@]}" install --no-index --find-links "${needs_wheels}" "${missing[@]}" >>"${needs_log}" 2>&1; then
        mkdir -p "${needs_wheels}"
        "${pip[@]}" wheel --quiet --find-links "${needs_wheels}" -w "${needs_wheels}" "${missing[@]}" >>"${needs_log}" 2>&1 ||
            needs_failed "downloading ${missing[*]}"
        "${pip[@]}" install --no-index --find-links "${needs_wheels}" "${missing[@]}" >>"${needs_log}" 2>&1 ||
            needs_failed "pip install ${missing[*]} into ${shown}"
    fi
    printf '%s\n' "${missing[@]}" >>"${stamp}"
}
