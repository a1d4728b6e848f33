# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_awsenv_global_optspecs
    string join \n config= debug h/help V/version
end

function __fish_awsenv_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_awsenv_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_awsenv_using_subcommand
    set -l cmd (__fish_awsenv_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c awsenv -n "__fish_awsenv_needs_command" -l config -d 'Account file mapping names to `arn:aws:iam::ACCOUNT:` [env: AWSENV_CONFIG] [default: ~/aws-creds/accounts.json]' -r -F
complete -c awsenv -n "__fish_awsenv_needs_command" -l debug -d 'Explain on stderr which files and cache entries are used and why (never a secret) [env: AWSENV_DEBUG=1]'
complete -c awsenv -n "__fish_awsenv_needs_command" -s h -l help -d 'Print help'
complete -c awsenv -n "__fish_awsenv_needs_command" -s V -l version -d 'Print version'
complete -c awsenv -n "__fish_awsenv_needs_command" -f -a "init" -d 'Print the shell functions ec2switch, ec2mfa and ec2now, for eval in the shell\'s rc file'
complete -c awsenv -n "__fish_awsenv_needs_command" -f -a "switch" -d 'Print exports for an account\'s cached MFA session, or its long-term keys (behind ec2switch)'
complete -c awsenv -n "__fish_awsenv_needs_command" -f -a "mfa" -d 'Make or reuse an MFA session with STS GetSessionToken and print its exports (behind ec2mfa)'
complete -c awsenv -n "__fish_awsenv_needs_command" -f -a "now" -d 'Describe the credentials set in this shell (behind ec2now)'
complete -c awsenv -n "__fish_awsenv_needs_command" -f -a "refresh" -d 'Renew the session this shell holds when less than the refresh window is left (behind the aws wrapper)'
complete -c awsenv -n "__fish_awsenv_needs_command" -f -a "assume" -d 'Print role credentials from STS AssumeRole, signed with the cached MFA session when there is one'
complete -c awsenv -n "__fish_awsenv_needs_command" -f -a "exec" -d 'Run a command with an account\'s credentials, renewing them first when they would run out'
complete -c awsenv -n "__fish_awsenv_needs_command" -f -a "shell" -d 'Open a subshell of your shell with an account\'s credentials and the awsenv functions'
complete -c awsenv -n "__fish_awsenv_needs_command" -f -a "prompt" -d 'Print the prompt segment for the credentials in the environment, e.g. `(aws:prod+42m) `'
complete -c awsenv -n "__fish_awsenv_needs_command" -f -a "credential-process" -d 'Print credentials as credential_process expects them (Version 1 JSON), renewing when needed'
complete -c awsenv -n "__fish_awsenv_needs_command" -f -a "update" -d 'Write the account\'s session into a profile of ~/.aws/credentials, and keep it fresh'
complete -c awsenv -n "__fish_awsenv_needs_command" -f -a "serve" -d 'Serve the account\'s session on an IMDSv2-compatible endpoint on 127.0.0.1'
complete -c awsenv -n "__fish_awsenv_needs_command" -f -a "provision-mfa" -d 'Create and enable a virtual MFA device for the account\'s IAM user, with its QR code drawn here'
complete -c awsenv -n "__fish_awsenv_needs_command" -f -a "version" -d 'Print the version and the commit it was built from'
complete -c awsenv -n "__fish_awsenv_needs_command" -f -a "accounts" -d 'List the accounts (the store\'s, then the aws CLI\'s profiles) and where each comes from'
complete -c awsenv -n "__fish_awsenv_needs_command" -f -a "completions" -d 'Print the completion script for awsenv and the shell functions'
complete -c awsenv -n "__fish_awsenv_needs_command" -f -a "authorized-keys" -d 'For sshd\'s AuthorizedKeysCommand: print the IAM SSH keys a local user accepts, from a cache'
complete -c awsenv -n "__fish_awsenv_needs_command" -f -a "ssh-cert" -d 'Get a short-lived SSH certificate from a signer Lambda, for ssh-agent, stdout or a file'
complete -c awsenv -n "__fish_awsenv_needs_command" -f -a "sign-string" -d 'Sign aws_signing_helper\'s test message with a private key (a file or a PKCS#11 token)'
complete -c awsenv -n "__fish_awsenv_needs_command" -f -a "read-certificate-data" -d 'Print a certificate\'s key type, DER, serial and algorithms as JSON, or list a token\'s certificates'
complete -c awsenv -n "__fish_awsenv_needs_command" -f -a "sso" -d 'IAM Identity Center (SSO): sign in, list the accounts and roles, sign out'
complete -c awsenv -n "__fish_awsenv_needs_command" -f -a "doctor" -d 'Check the setup: this shell, the store and cache, the way to AWS, the environment'
complete -c awsenv -n "__fish_awsenv_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c awsenv -n "__fish_awsenv_using_subcommand init" -l config -d 'Account file mapping names to `arn:aws:iam::ACCOUNT:` [env: AWSENV_CONFIG] [default: ~/aws-creds/accounts.json]' -r -F
complete -c awsenv -n "__fish_awsenv_using_subcommand init" -l no-prompt -d 'Leave the prompt alone; the segment stays available in $AWSENV_PROMPT and awsenv_prompt'
complete -c awsenv -n "__fish_awsenv_using_subcommand init" -l no-wrapper -d 'Do not define the aws function that renews credentials before running the aws CLI'
complete -c awsenv -n "__fish_awsenv_using_subcommand init" -l debug -d 'Explain on stderr which files and cache entries are used and why (never a secret) [env: AWSENV_DEBUG=1]'
complete -c awsenv -n "__fish_awsenv_using_subcommand init" -s h -l help -d 'Print help'
complete -c awsenv -n "__fish_awsenv_using_subcommand switch" -l shell -d 'Syntax of the exports printed on stdout' -r -f -a "bash\t''
zsh\t''
fish\t''"
complete -c awsenv -n "__fish_awsenv_using_subcommand switch" -l config -d 'Account file mapping names to `arn:aws:iam::ACCOUNT:` [env: AWSENV_CONFIG] [default: ~/aws-creds/accounts.json]' -r -F
complete -c awsenv -n "__fish_awsenv_using_subcommand switch" -l only-changes -d 'Print only what changes in the shell that started awsenv: variables that already hold their value there are left out (the shell functions pass it)'
complete -c awsenv -n "__fish_awsenv_using_subcommand switch" -l debug -d 'Explain on stderr which files and cache entries are used and why (never a secret) [env: AWSENV_DEBUG=1]'
complete -c awsenv -n "__fish_awsenv_using_subcommand switch" -s h -l help -d 'Print help'
complete -c awsenv -n "__fish_awsenv_using_subcommand mfa" -l shell -d 'Syntax of the exports printed on stdout' -r -f -a "bash\t''
zsh\t''
fish\t''"
complete -c awsenv -n "__fish_awsenv_using_subcommand mfa" -s d -l duration -l session-duration -d 'Session lifetime in seconds, 900 to 129600 [env: AWSENV_DURATION] [default: 14400]' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand mfa" -l code -d 'The MFA code (visible to other users in ps; prefer the prompt or AWSENV_MFA_CODE)' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand mfa" -l config -d 'Account file mapping names to `arn:aws:iam::ACCOUNT:` [env: AWSENV_CONFIG] [default: ~/aws-creds/accounts.json]' -r -F
complete -c awsenv -n "__fish_awsenv_using_subcommand mfa" -l only-changes -d 'Print only what changes in the shell that started awsenv: variables that already hold their value there are left out (the shell functions pass it)'
complete -c awsenv -n "__fish_awsenv_using_subcommand mfa" -l debug -d 'Explain on stderr which files and cache entries are used and why (never a secret) [env: AWSENV_DEBUG=1]'
complete -c awsenv -n "__fish_awsenv_using_subcommand mfa" -s h -l help -d 'Print help'
complete -c awsenv -n "__fish_awsenv_using_subcommand now" -l config -d 'Account file mapping names to `arn:aws:iam::ACCOUNT:` [env: AWSENV_CONFIG] [default: ~/aws-creds/accounts.json]' -r -F
complete -c awsenv -n "__fish_awsenv_using_subcommand now" -l debug -d 'Explain on stderr which files and cache entries are used and why (never a secret) [env: AWSENV_DEBUG=1]'
complete -c awsenv -n "__fish_awsenv_using_subcommand now" -s h -l help -d 'Print help'
complete -c awsenv -n "__fish_awsenv_using_subcommand refresh" -l shell -d 'Syntax of the exports printed on stdout' -r -f -a "bash\t''
zsh\t''
fish\t''"
complete -c awsenv -n "__fish_awsenv_using_subcommand refresh" -l code -d 'The MFA code, if a new MFA session is needed' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand refresh" -l config -d 'Account file mapping names to `arn:aws:iam::ACCOUNT:` [env: AWSENV_CONFIG] [default: ~/aws-creds/accounts.json]' -r -F
complete -c awsenv -n "__fish_awsenv_using_subcommand refresh" -l only-changes -d 'Print only what changes in the shell that started awsenv: variables that already hold their value there are left out (the shell functions pass it)'
complete -c awsenv -n "__fish_awsenv_using_subcommand refresh" -l debug -d 'Explain on stderr which files and cache entries are used and why (never a secret) [env: AWSENV_DEBUG=1]'
complete -c awsenv -n "__fish_awsenv_using_subcommand refresh" -s h -l help -d 'Print help'
complete -c awsenv -n "__fish_awsenv_using_subcommand assume" -l account -d 'Account from the store whose keys (or MFA session) sign the call, and that holds the role' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand assume" -l role -d 'Role name in the account, or a full role ARN for a role elsewhere' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand assume" -s d -l duration -l session-duration -d 'Role session lifetime in seconds, 900 to 43200; over 3600 needs a new MFA code [default: 3600]' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand assume" -l session-name -d 'Role session name [default: the IAM user]' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand assume" -l external-id -d 'External ID the role\'s trust policy requires' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand assume" -l code -d 'The MFA code, if one is needed (visible in ps; prefer the prompt or AWSENV_MFA_CODE)' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand assume" -l min-ttl -d 'Renew a cached role session that has less than this left (e.g. 10m, 1h, 90s) [default: the refresh window]' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand assume" -l format -d 'Output format' -r -f -a "json\t'`{"access_key", "expiration", "secret_key", "session_token"}`, as generate-sts-role-token'
bash\t'export lines for bash and zsh (`shell` is the same)'
fish\t'set lines for fish'"
complete -c awsenv -n "__fish_awsenv_using_subcommand assume" -l config -d 'Account file mapping names to `arn:aws:iam::ACCOUNT:` [env: AWSENV_CONFIG] [default: ~/aws-creds/accounts.json]' -r -F
complete -c awsenv -n "__fish_awsenv_using_subcommand assume" -l only-changes -d 'Print only what changes in the shell that started awsenv: variables that already hold their value there are left out (ec2role passes it; bash and fish formats only)'
complete -c awsenv -n "__fish_awsenv_using_subcommand assume" -l debug -d 'Explain on stderr which files and cache entries are used and why (never a secret) [env: AWSENV_DEBUG=1]'
complete -c awsenv -n "__fish_awsenv_using_subcommand assume" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c awsenv -n "__fish_awsenv_using_subcommand exec" -l role -d 'Assume this role of the account instead of using its MFA session' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand exec" -l min-ttl -d 'Renew the session first when less than this is left (e.g. 2h, 30m) [default: the refresh window]' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand exec" -l code -d 'The MFA code, if one is needed (visible in ps; prefer the prompt or AWSENV_MFA_CODE)' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand exec" -l config -d 'Account file mapping names to `arn:aws:iam::ACCOUNT:` [env: AWSENV_CONFIG] [default: ~/aws-creds/accounts.json]' -r -F
complete -c awsenv -n "__fish_awsenv_using_subcommand exec" -l keys -d 'Use the account\'s long-term keys, not a session'
complete -c awsenv -n "__fish_awsenv_using_subcommand exec" -l debug -d 'Explain on stderr which files and cache entries are used and why (never a secret) [env: AWSENV_DEBUG=1]'
complete -c awsenv -n "__fish_awsenv_using_subcommand exec" -s h -l help -d 'Print help'
complete -c awsenv -n "__fish_awsenv_using_subcommand shell" -l role -d 'Assume this role of the account' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand shell" -l config -d 'Account file mapping names to `arn:aws:iam::ACCOUNT:` [env: AWSENV_CONFIG] [default: ~/aws-creds/accounts.json]' -r -F
complete -c awsenv -n "__fish_awsenv_using_subcommand shell" -l debug -d 'Explain on stderr which files and cache entries are used and why (never a secret) [env: AWSENV_DEBUG=1]'
complete -c awsenv -n "__fish_awsenv_using_subcommand shell" -s h -l help -d 'Print help'
complete -c awsenv -n "__fish_awsenv_using_subcommand prompt" -l shell -d 'Shell whose prompt will show the segment (decides how colour codes are wrapped)' -r -f -a "bash\t''
zsh\t''
fish\t''"
complete -c awsenv -n "__fish_awsenv_using_subcommand prompt" -l config -d 'Account file mapping names to `arn:aws:iam::ACCOUNT:` [env: AWSENV_CONFIG] [default: ~/aws-creds/accounts.json]' -r -F
complete -c awsenv -n "__fish_awsenv_using_subcommand prompt" -l debug -d 'Explain on stderr which files and cache entries are used and why (never a secret) [env: AWSENV_DEBUG=1]'
complete -c awsenv -n "__fish_awsenv_using_subcommand prompt" -s h -l help -d 'Print help'
complete -c awsenv -n "__fish_awsenv_using_subcommand credential-process" -l role -d 'Assume this role of the account' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand credential-process" -l min-ttl -d 'Renew a session with less than this left (e.g. 15m); a code is asked on the terminal' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand credential-process" -l certificate -d 'Certificate: a PEM or DER file, or a pkcs11: URI' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand credential-process" -l private-key -d 'Private key: a PEM file or a pkcs11: URI [default: the certificate file\'s own, or the token\'s]' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand credential-process" -l intermediates -d 'PEM bundle of intermediate CA certificates, sent as X-Amz-X509-Chain' -r -F
complete -c awsenv -n "__fish_awsenv_using_subcommand credential-process" -l trust-anchor-arn -d 'Trust anchor ARN' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand credential-process" -l profile-arn -d 'Profile ARN' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand credential-process" -l role-arn -d 'Role ARN' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand credential-process" -l session-duration -d 'Session lifetime in seconds, 900 to 43200 [default: 3600]' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand credential-process" -l region -d 'Region of the IAM Roles Anywhere endpoint [default: the trust anchor\'s]' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand credential-process" -l endpoint -d 'IAM Roles Anywhere endpoint [env: AWS_ENDPOINT_URL_ROLESANYWHERE, AWS_ENDPOINT_URL]' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand credential-process" -l role-session-name -d 'Role session name [default: the service\'s, from the certificate\'s serial]' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand credential-process" -l pkcs8-password -d 'Passphrase of an encrypted PKCS#8 key (visible in ps; prefer AWSENV_PKCS8_PASSWORD or the prompt)' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand credential-process" -l pkcs11-lib -d 'PKCS#11 module [env: PKCS11_MODULE_PATH] [default: the URI\'s module-path, else p11-kit\'s proxy]' -r -F
complete -c awsenv -n "__fish_awsenv_using_subcommand credential-process" -l config -d 'Account file mapping names to `arn:aws:iam::ACCOUNT:` [env: AWSENV_CONFIG] [default: ~/aws-creds/accounts.json]' -r -F
complete -c awsenv -n "__fish_awsenv_using_subcommand credential-process" -l reuse-pin -d 'Log in again with the same PIN for a key that asks before every signature'
complete -c awsenv -n "__fish_awsenv_using_subcommand credential-process" -l no-verify-ssl -d 'Accepted for aws_signing_helper\'s sake; awsenv verifies TLS anyway (set AWS_CA_BUNDLE for a private CA)'
complete -c awsenv -n "__fish_awsenv_using_subcommand credential-process" -l with-proxy -d 'Reach the endpoint through HTTPS_PROXY (honouring NO_PROXY)'
complete -c awsenv -n "__fish_awsenv_using_subcommand credential-process" -l debug -d 'Explain on stderr which files and cache entries are used and why (never a secret) [env: AWSENV_DEBUG=1]'
complete -c awsenv -n "__fish_awsenv_using_subcommand credential-process" -s h -l help -d 'Print help'
complete -c awsenv -n "__fish_awsenv_using_subcommand update" -l profile -d 'Profile of the credentials file to write (aws_signing_helper\'s default: `default`)' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand update" -l role -d 'Assume this role of the account' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand update" -l certificate -d 'Certificate: a PEM or DER file, or a pkcs11: URI' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand update" -l private-key -d 'Private key: a PEM file or a pkcs11: URI [default: the certificate file\'s own, or the token\'s]' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand update" -l intermediates -d 'PEM bundle of intermediate CA certificates, sent as X-Amz-X509-Chain' -r -F
complete -c awsenv -n "__fish_awsenv_using_subcommand update" -l trust-anchor-arn -d 'Trust anchor ARN' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand update" -l profile-arn -d 'Profile ARN' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand update" -l role-arn -d 'Role ARN' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand update" -l session-duration -d 'Session lifetime in seconds, 900 to 43200 [default: 3600]' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand update" -l region -d 'Region of the IAM Roles Anywhere endpoint [default: the trust anchor\'s]' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand update" -l endpoint -d 'IAM Roles Anywhere endpoint [env: AWS_ENDPOINT_URL_ROLESANYWHERE, AWS_ENDPOINT_URL]' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand update" -l role-session-name -d 'Role session name [default: the service\'s, from the certificate\'s serial]' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand update" -l pkcs8-password -d 'Passphrase of an encrypted PKCS#8 key (visible in ps; prefer AWSENV_PKCS8_PASSWORD or the prompt)' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand update" -l pkcs11-lib -d 'PKCS#11 module [env: PKCS11_MODULE_PATH] [default: the URI\'s module-path, else p11-kit\'s proxy]' -r -F
complete -c awsenv -n "__fish_awsenv_using_subcommand update" -l config -d 'Account file mapping names to `arn:aws:iam::ACCOUNT:` [env: AWSENV_CONFIG] [default: ~/aws-creds/accounts.json]' -r -F
complete -c awsenv -n "__fish_awsenv_using_subcommand update" -l once -d 'Write once and exit, instead of renewing five minutes before each expiry'
complete -c awsenv -n "__fish_awsenv_using_subcommand update" -l reuse-pin -d 'Log in again with the same PIN for a key that asks before every signature'
complete -c awsenv -n "__fish_awsenv_using_subcommand update" -l no-verify-ssl -d 'Accepted for aws_signing_helper\'s sake; awsenv verifies TLS anyway (set AWS_CA_BUNDLE for a private CA)'
complete -c awsenv -n "__fish_awsenv_using_subcommand update" -l with-proxy -d 'Reach the endpoint through HTTPS_PROXY (honouring NO_PROXY)'
complete -c awsenv -n "__fish_awsenv_using_subcommand update" -l debug -d 'Explain on stderr which files and cache entries are used and why (never a secret) [env: AWSENV_DEBUG=1]'
complete -c awsenv -n "__fish_awsenv_using_subcommand update" -s h -l help -d 'Print help'
complete -c awsenv -n "__fish_awsenv_using_subcommand serve" -l role -d 'Assume this role of the account' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand serve" -l port -d 'Port on 127.0.0.1 (0: any free port)' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand serve" -l bind -d 'Address to listen on; only loopback addresses are accepted' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand serve" -l hop-limit -d 'IP TTL of the answers, 1 like EC2\'s endpoint so that a container behind a bridge cannot reach it' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand serve" -l certificate -d 'Certificate: a PEM or DER file, or a pkcs11: URI' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand serve" -l private-key -d 'Private key: a PEM file or a pkcs11: URI [default: the certificate file\'s own, or the token\'s]' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand serve" -l intermediates -d 'PEM bundle of intermediate CA certificates, sent as X-Amz-X509-Chain' -r -F
complete -c awsenv -n "__fish_awsenv_using_subcommand serve" -l trust-anchor-arn -d 'Trust anchor ARN' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand serve" -l profile-arn -d 'Profile ARN' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand serve" -l role-arn -d 'Role ARN' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand serve" -l session-duration -d 'Session lifetime in seconds, 900 to 43200 [default: 3600]' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand serve" -l region -d 'Region of the IAM Roles Anywhere endpoint [default: the trust anchor\'s]' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand serve" -l endpoint -d 'IAM Roles Anywhere endpoint [env: AWS_ENDPOINT_URL_ROLESANYWHERE, AWS_ENDPOINT_URL]' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand serve" -l role-session-name -d 'Role session name [default: the service\'s, from the certificate\'s serial]' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand serve" -l pkcs8-password -d 'Passphrase of an encrypted PKCS#8 key (visible in ps; prefer AWSENV_PKCS8_PASSWORD or the prompt)' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand serve" -l pkcs11-lib -d 'PKCS#11 module [env: PKCS11_MODULE_PATH] [default: the URI\'s module-path, else p11-kit\'s proxy]' -r -F
complete -c awsenv -n "__fish_awsenv_using_subcommand serve" -l config -d 'Account file mapping names to `arn:aws:iam::ACCOUNT:` [env: AWSENV_CONFIG] [default: ~/aws-creds/accounts.json]' -r -F
complete -c awsenv -n "__fish_awsenv_using_subcommand serve" -l reuse-pin -d 'Log in again with the same PIN for a key that asks before every signature'
complete -c awsenv -n "__fish_awsenv_using_subcommand serve" -l no-verify-ssl -d 'Accepted for aws_signing_helper\'s sake; awsenv verifies TLS anyway (set AWS_CA_BUNDLE for a private CA)'
complete -c awsenv -n "__fish_awsenv_using_subcommand serve" -l with-proxy -d 'Reach the endpoint through HTTPS_PROXY (honouring NO_PROXY)'
complete -c awsenv -n "__fish_awsenv_using_subcommand serve" -l debug -d 'Explain on stderr which files and cache entries are used and why (never a secret) [env: AWSENV_DEBUG=1]'
complete -c awsenv -n "__fish_awsenv_using_subcommand serve" -s h -l help -d 'Print help'
complete -c awsenv -n "__fish_awsenv_using_subcommand provision-mfa" -l config -d 'Account file mapping names to `arn:aws:iam::ACCOUNT:` [env: AWSENV_CONFIG] [default: ~/aws-creds/accounts.json]' -r -F
complete -c awsenv -n "__fish_awsenv_using_subcommand provision-mfa" -l show-secret -d 'Also print the base32 secret, for typing into an app instead of scanning'
complete -c awsenv -n "__fish_awsenv_using_subcommand provision-mfa" -l debug -d 'Explain on stderr which files and cache entries are used and why (never a secret) [env: AWSENV_DEBUG=1]'
complete -c awsenv -n "__fish_awsenv_using_subcommand provision-mfa" -s h -l help -d 'Print help'
complete -c awsenv -n "__fish_awsenv_using_subcommand version" -l config -d 'Account file mapping names to `arn:aws:iam::ACCOUNT:` [env: AWSENV_CONFIG] [default: ~/aws-creds/accounts.json]' -r -F
complete -c awsenv -n "__fish_awsenv_using_subcommand version" -l debug -d 'Explain on stderr which files and cache entries are used and why (never a secret) [env: AWSENV_DEBUG=1]'
complete -c awsenv -n "__fish_awsenv_using_subcommand version" -s h -l help -d 'Print help'
complete -c awsenv -n "__fish_awsenv_using_subcommand accounts" -l config -d 'Account file mapping names to `arn:aws:iam::ACCOUNT:` [env: AWSENV_CONFIG] [default: ~/aws-creds/accounts.json]' -r -F
complete -c awsenv -n "__fish_awsenv_using_subcommand accounts" -l names -d 'Only the names, one per line'
complete -c awsenv -n "__fish_awsenv_using_subcommand accounts" -l debug -d 'Explain on stderr which files and cache entries are used and why (never a secret) [env: AWSENV_DEBUG=1]'
complete -c awsenv -n "__fish_awsenv_using_subcommand accounts" -s h -l help -d 'Print help'
complete -c awsenv -n "__fish_awsenv_using_subcommand completions" -l config -d 'Account file mapping names to `arn:aws:iam::ACCOUNT:` [env: AWSENV_CONFIG] [default: ~/aws-creds/accounts.json]' -r -F
complete -c awsenv -n "__fish_awsenv_using_subcommand completions" -l debug -d 'Explain on stderr which files and cache entries are used and why (never a secret) [env: AWSENV_DEBUG=1]'
complete -c awsenv -n "__fish_awsenv_using_subcommand completions" -s h -l help -d 'Print help'
complete -c awsenv -n "__fish_awsenv_using_subcommand authorized-keys" -l map -d 'Root-owned file mapping local users to IAM principals [default: /etc/awsenv/authorized-keys.conf]' -r -F
complete -c awsenv -n "__fish_awsenv_using_subcommand authorized-keys" -l cache-dir -d 'Cache directory, created 0700 by the command user [default: the map\'s cache-dir, else /tmp/awsenv-authorized-keys-UID]' -r -F
complete -c awsenv -n "__fish_awsenv_using_subcommand authorized-keys" -l fresh -d 'Keys fetched less than this long ago are used without asking IAM (e.g. 90s, 5m) [default: 5m]' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand authorized-keys" -l stale -d 'When IAM cannot be asked, keys fetched less than this long ago are still used [default: 1h]' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand authorized-keys" -l timeout -d 'Longest time a login may wait, for the lock and IAM together [default: 5s]' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand authorized-keys" -l profile -d 'Profile of the aws CLI\'s files to use instead of the SDK\'s default chain (environment, IMDS)' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand authorized-keys" -l config -d 'Account file mapping names to `arn:aws:iam::ACCOUNT:` [env: AWSENV_CONFIG] [default: ~/aws-creds/accounts.json]' -r -F
complete -c awsenv -n "__fish_awsenv_using_subcommand authorized-keys" -l debug -d 'Explain on stderr which files and cache entries are used and why (never a secret) [env: AWSENV_DEBUG=1]'
complete -c awsenv -n "__fish_awsenv_using_subcommand authorized-keys" -s h -l help -d 'Print help'
complete -c awsenv -n "__fish_awsenv_using_subcommand ssh-cert" -l lambda-arn -d 'The signer Lambda (name or ARN)' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand ssh-cert" -l environment -d 'Environment the Lambda signs for (its config file)' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand ssh-cert" -l duration -d 'Certificate lifetime to ask for (e.g. 60s, 5m, 1h)' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand ssh-cert" -l source-address -d 'CIDR the certificate may be used from (repeatable)' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand ssh-cert" -l ssh-private-key-filename -d 'Private key [default: the first of ~/.ssh/id_ed25519, ~/.ssh/id_ecdsa, ~/.ssh/id_rsa]' -r -F
complete -c awsenv -n "__fish_awsenv_using_subcommand ssh-cert" -l ssh-public-key-filename -d 'Public key to sign [default: the private key\'s name plus .pub]' -r -F
complete -c awsenv -n "__fish_awsenv_using_subcommand ssh-cert" -l output -d 'Where the certificate goes' -r -f -a "agent\t'Add key and certificate to $SSH_AUTH_SOCK until the certificate expires'
stdout\t'Print the Lambda\'s answer (JSON)'
file\t'Write KEY-cert.pub beside the private key'"
complete -c awsenv -n "__fish_awsenv_using_subcommand ssh-cert" -l proxy-config -d 'As an ssh ProxyCommand: after getting the certificate, join stdin and stdout to HOST:PORT' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand ssh-cert" -l region -d 'Region of the Lambda [default: the account\'s, else AWS_REGION, else us-east-1]' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand ssh-cert" -l account -d 'Account that signs the calls [default: the account set in this shell]' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand ssh-cert" -l role -d 'Assume this role of the account and ask as the role' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand ssh-cert" -l config -d 'Account file mapping names to `arn:aws:iam::ACCOUNT:` [env: AWSENV_CONFIG] [default: ~/aws-creds/accounts.json]' -r -F
complete -c awsenv -n "__fish_awsenv_using_subcommand ssh-cert" -l dump -d 'Print the request the Lambda would get, and stop (the identity URL in it is a short-lived proof)'
complete -c awsenv -n "__fish_awsenv_using_subcommand ssh-cert" -l regional-sts -d 'Presign the identity URL for the region\'s STS endpoint instead of the global one'
complete -c awsenv -n "__fish_awsenv_using_subcommand ssh-cert" -l debug -d 'Explain on stderr which files and cache entries are used and why (never a secret) [env: AWSENV_DEBUG=1]'
complete -c awsenv -n "__fish_awsenv_using_subcommand ssh-cert" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c awsenv -n "__fish_awsenv_using_subcommand sign-string" -l private-key -d 'Private key: a PEM file or a pkcs11: URI' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand sign-string" -l certificate -d 'Certificate (a file or a pkcs11: URI) whose key signs, when --private-key is not given' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand sign-string" -l pkcs8-password -d 'Passphrase of an encrypted PKCS#8 key (visible in ps; prefer AWSENV_PKCS8_PASSWORD or the prompt)' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand sign-string" -l pkcs11-lib -d 'PKCS#11 module [env: PKCS11_MODULE_PATH] [default: the URI\'s module-path, else p11-kit\'s proxy]' -r -F
complete -c awsenv -n "__fish_awsenv_using_subcommand sign-string" -l digest -d 'Digest of the message that is signed' -r -f -a "SHA256\t''
SHA384\t''
SHA512\t''"
complete -c awsenv -n "__fish_awsenv_using_subcommand sign-string" -l format -d 'Output format (aws_signing_helper\'s default is json, whatever its README says)' -r -f -a "json\t'The signature\'s lower-case hex as a JSON string'
text\t'The signature\'s lower-case hex'
bin\t'The signature\'s bytes'"
complete -c awsenv -n "__fish_awsenv_using_subcommand sign-string" -l config -d 'Account file mapping names to `arn:aws:iam::ACCOUNT:` [env: AWSENV_CONFIG] [default: ~/aws-creds/accounts.json]' -r -F
complete -c awsenv -n "__fish_awsenv_using_subcommand sign-string" -l reuse-pin -d 'Log in again with the same PIN for a key that asks before every signature'
complete -c awsenv -n "__fish_awsenv_using_subcommand sign-string" -l debug -d 'Explain on stderr which files and cache entries are used and why (never a secret) [env: AWSENV_DEBUG=1]'
complete -c awsenv -n "__fish_awsenv_using_subcommand sign-string" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c awsenv -n "__fish_awsenv_using_subcommand read-certificate-data" -l certificate -d 'A certificate file, or a pkcs11: URI to list the matching certificates of tokens' -r
complete -c awsenv -n "__fish_awsenv_using_subcommand read-certificate-data" -l pkcs11-lib -d 'PKCS#11 module [env: PKCS11_MODULE_PATH] [default: the URI\'s module-path, else p11-kit\'s proxy]' -r -F
complete -c awsenv -n "__fish_awsenv_using_subcommand read-certificate-data" -l config -d 'Account file mapping names to `arn:aws:iam::ACCOUNT:` [env: AWSENV_CONFIG] [default: ~/aws-creds/accounts.json]' -r -F
complete -c awsenv -n "__fish_awsenv_using_subcommand read-certificate-data" -l debug -d 'Explain on stderr which files and cache entries are used and why (never a secret) [env: AWSENV_DEBUG=1]'
complete -c awsenv -n "__fish_awsenv_using_subcommand read-certificate-data" -s h -l help -d 'Print help'
complete -c awsenv -n "__fish_awsenv_using_subcommand sso; and not __fish_seen_subcommand_from login logout accounts credentials help" -l config -d 'Account file mapping names to `arn:aws:iam::ACCOUNT:` [env: AWSENV_CONFIG] [default: ~/aws-creds/accounts.json]' -r -F
complete -c awsenv -n "__fish_awsenv_using_subcommand sso; and not __fish_seen_subcommand_from login logout accounts credentials help" -l debug -d 'Explain on stderr which files and cache entries are used and why (never a secret) [env: AWSENV_DEBUG=1]'
complete -c awsenv -n "__fish_awsenv_using_subcommand sso; and not __fish_seen_subcommand_from login logout accounts credentials help" -s h -l help -d 'Print help'
complete -c awsenv -n "__fish_awsenv_using_subcommand sso; and not __fish_seen_subcommand_from login logout accounts credentials help" -f -a "login" -d 'Sign in, unless the cached token (shared with the aws CLI) is valid or can be renewed'
complete -c awsenv -n "__fish_awsenv_using_subcommand sso; and not __fish_seen_subcommand_from login logout accounts credentials help" -f -a "logout" -d 'End the sign-in at IAM Identity Center and remove its cached token'
complete -c awsenv -n "__fish_awsenv_using_subcommand sso; and not __fish_seen_subcommand_from login logout accounts credentials help" -f -a "accounts" -d 'List the accounts and roles the signed-in user may use, named SESSION/ACCOUNT_ID/ROLE'
complete -c awsenv -n "__fish_awsenv_using_subcommand sso; and not __fish_seen_subcommand_from login logout accounts credentials help" -f -a "credentials" -d 'Print a role\'s credentials as credential_process expects them (Version 1 JSON)'
complete -c awsenv -n "__fish_awsenv_using_subcommand sso; and not __fish_seen_subcommand_from login logout accounts credentials help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c awsenv -n "__fish_awsenv_using_subcommand sso; and __fish_seen_subcommand_from login" -l config -d 'Account file mapping names to `arn:aws:iam::ACCOUNT:` [env: AWSENV_CONFIG] [default: ~/aws-creds/accounts.json]' -r -F
complete -c awsenv -n "__fish_awsenv_using_subcommand sso; and __fish_seen_subcommand_from login" -l force -d 'Sign in even when the cached token is still valid'
complete -c awsenv -n "__fish_awsenv_using_subcommand sso; and __fish_seen_subcommand_from login" -l device-code -d 'Sign in on any device with a code shown here, instead of this machine\'s browser'
complete -c awsenv -n "__fish_awsenv_using_subcommand sso; and __fish_seen_subcommand_from login" -l debug -d 'Explain on stderr which files and cache entries are used and why (never a secret) [env: AWSENV_DEBUG=1]'
complete -c awsenv -n "__fish_awsenv_using_subcommand sso; and __fish_seen_subcommand_from login" -s h -l help -d 'Print help'
complete -c awsenv -n "__fish_awsenv_using_subcommand sso; and __fish_seen_subcommand_from logout" -l config -d 'Account file mapping names to `arn:aws:iam::ACCOUNT:` [env: AWSENV_CONFIG] [default: ~/aws-creds/accounts.json]' -r -F
complete -c awsenv -n "__fish_awsenv_using_subcommand sso; and __fish_seen_subcommand_from logout" -l debug -d 'Explain on stderr which files and cache entries are used and why (never a secret) [env: AWSENV_DEBUG=1]'
complete -c awsenv -n "__fish_awsenv_using_subcommand sso; and __fish_seen_subcommand_from logout" -s h -l help -d 'Print help'
complete -c awsenv -n "__fish_awsenv_using_subcommand sso; and __fish_seen_subcommand_from accounts" -l config -d 'Account file mapping names to `arn:aws:iam::ACCOUNT:` [env: AWSENV_CONFIG] [default: ~/aws-creds/accounts.json]' -r -F
complete -c awsenv -n "__fish_awsenv_using_subcommand sso; and __fish_seen_subcommand_from accounts" -l names -d 'Only the names, one per line'
complete -c awsenv -n "__fish_awsenv_using_subcommand sso; and __fish_seen_subcommand_from accounts" -l refresh -d 'Ask IAM Identity Center even if the list fetched in the last 5 minutes is cached'
complete -c awsenv -n "__fish_awsenv_using_subcommand sso; and __fish_seen_subcommand_from accounts" -l debug -d 'Explain on stderr which files and cache entries are used and why (never a secret) [env: AWSENV_DEBUG=1]'
complete -c awsenv -n "__fish_awsenv_using_subcommand sso; and __fish_seen_subcommand_from accounts" -s h -l help -d 'Print help'
complete -c awsenv -n "__fish_awsenv_using_subcommand sso; and __fish_seen_subcommand_from credentials" -l config -d 'Account file mapping names to `arn:aws:iam::ACCOUNT:` [env: AWSENV_CONFIG] [default: ~/aws-creds/accounts.json]' -r -F
complete -c awsenv -n "__fish_awsenv_using_subcommand sso; and __fish_seen_subcommand_from credentials" -l no-sign-in -d 'Fail instead of signing in when there is no valid token'
complete -c awsenv -n "__fish_awsenv_using_subcommand sso; and __fish_seen_subcommand_from credentials" -l debug -d 'Explain on stderr which files and cache entries are used and why (never a secret) [env: AWSENV_DEBUG=1]'
complete -c awsenv -n "__fish_awsenv_using_subcommand sso; and __fish_seen_subcommand_from credentials" -s h -l help -d 'Print help'
complete -c awsenv -n "__fish_awsenv_using_subcommand sso; and __fish_seen_subcommand_from help" -f -a "login" -d 'Sign in, unless the cached token (shared with the aws CLI) is valid or can be renewed'
complete -c awsenv -n "__fish_awsenv_using_subcommand sso; and __fish_seen_subcommand_from help" -f -a "logout" -d 'End the sign-in at IAM Identity Center and remove its cached token'
complete -c awsenv -n "__fish_awsenv_using_subcommand sso; and __fish_seen_subcommand_from help" -f -a "accounts" -d 'List the accounts and roles the signed-in user may use, named SESSION/ACCOUNT_ID/ROLE'
complete -c awsenv -n "__fish_awsenv_using_subcommand sso; and __fish_seen_subcommand_from help" -f -a "credentials" -d 'Print a role\'s credentials as credential_process expects them (Version 1 JSON)'
complete -c awsenv -n "__fish_awsenv_using_subcommand sso; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c awsenv -n "__fish_awsenv_using_subcommand doctor" -l config -d 'Account file mapping names to `arn:aws:iam::ACCOUNT:` [env: AWSENV_CONFIG] [default: ~/aws-creds/accounts.json]' -r -F
complete -c awsenv -n "__fish_awsenv_using_subcommand doctor" -l offline -d 'Skip the checks that reach AWS (DNS, TCP, TLS, the clock, the call)'
complete -c awsenv -n "__fish_awsenv_using_subcommand doctor" -l json -d 'Print the checks as one JSON document'
complete -c awsenv -n "__fish_awsenv_using_subcommand doctor" -l debug -d 'Explain on stderr which files and cache entries are used and why (never a secret) [env: AWSENV_DEBUG=1]'
complete -c awsenv -n "__fish_awsenv_using_subcommand doctor" -s h -l help -d 'Print help'
complete -c awsenv -n "__fish_awsenv_using_subcommand help; and not __fish_seen_subcommand_from init switch mfa now refresh assume exec shell prompt credential-process update serve provision-mfa version accounts completions authorized-keys ssh-cert sign-string read-certificate-data sso doctor help" -f -a "init" -d 'Print the shell functions ec2switch, ec2mfa and ec2now, for eval in the shell\'s rc file'
complete -c awsenv -n "__fish_awsenv_using_subcommand help; and not __fish_seen_subcommand_from init switch mfa now refresh assume exec shell prompt credential-process update serve provision-mfa version accounts completions authorized-keys ssh-cert sign-string read-certificate-data sso doctor help" -f -a "switch" -d 'Print exports for an account\'s cached MFA session, or its long-term keys (behind ec2switch)'
complete -c awsenv -n "__fish_awsenv_using_subcommand help; and not __fish_seen_subcommand_from init switch mfa now refresh assume exec shell prompt credential-process update serve provision-mfa version accounts completions authorized-keys ssh-cert sign-string read-certificate-data sso doctor help" -f -a "mfa" -d 'Make or reuse an MFA session with STS GetSessionToken and print its exports (behind ec2mfa)'
complete -c awsenv -n "__fish_awsenv_using_subcommand help; and not __fish_seen_subcommand_from init switch mfa now refresh assume exec shell prompt credential-process update serve provision-mfa version accounts completions authorized-keys ssh-cert sign-string read-certificate-data sso doctor help" -f -a "now" -d 'Describe the credentials set in this shell (behind ec2now)'
complete -c awsenv -n "__fish_awsenv_using_subcommand help; and not __fish_seen_subcommand_from init switch mfa now refresh assume exec shell prompt credential-process update serve provision-mfa version accounts completions authorized-keys ssh-cert sign-string read-certificate-data sso doctor help" -f -a "refresh" -d 'Renew the session this shell holds when less than the refresh window is left (behind the aws wrapper)'
complete -c awsenv -n "__fish_awsenv_using_subcommand help; and not __fish_seen_subcommand_from init switch mfa now refresh assume exec shell prompt credential-process update serve provision-mfa version accounts completions authorized-keys ssh-cert sign-string read-certificate-data sso doctor help" -f -a "assume" -d 'Print role credentials from STS AssumeRole, signed with the cached MFA session when there is one'
complete -c awsenv -n "__fish_awsenv_using_subcommand help; and not __fish_seen_subcommand_from init switch mfa now refresh assume exec shell prompt credential-process update serve provision-mfa version accounts completions authorized-keys ssh-cert sign-string read-certificate-data sso doctor help" -f -a "exec" -d 'Run a command with an account\'s credentials, renewing them first when they would run out'
complete -c awsenv -n "__fish_awsenv_using_subcommand help; and not __fish_seen_subcommand_from init switch mfa now refresh assume exec shell prompt credential-process update serve provision-mfa version accounts completions authorized-keys ssh-cert sign-string read-certificate-data sso doctor help" -f -a "shell" -d 'Open a subshell of your shell with an account\'s credentials and the awsenv functions'
complete -c awsenv -n "__fish_awsenv_using_subcommand help; and not __fish_seen_subcommand_from init switch mfa now refresh assume exec shell prompt credential-process update serve provision-mfa version accounts completions authorized-keys ssh-cert sign-string read-certificate-data sso doctor help" -f -a "prompt" -d 'Print the prompt segment for the credentials in the environment, e.g. `(aws:prod+42m) `'
complete -c awsenv -n "__fish_awsenv_using_subcommand help; and not __fish_seen_subcommand_from init switch mfa now refresh assume exec shell prompt credential-process update serve provision-mfa version accounts completions authorized-keys ssh-cert sign-string read-certificate-data sso doctor help" -f -a "credential-process" -d 'Print credentials as credential_process expects them (Version 1 JSON), renewing when needed'
complete -c awsenv -n "__fish_awsenv_using_subcommand help; and not __fish_seen_subcommand_from init switch mfa now refresh assume exec shell prompt credential-process update serve provision-mfa version accounts completions authorized-keys ssh-cert sign-string read-certificate-data sso doctor help" -f -a "update" -d 'Write the account\'s session into a profile of ~/.aws/credentials, and keep it fresh'
complete -c awsenv -n "__fish_awsenv_using_subcommand help; and not __fish_seen_subcommand_from init switch mfa now refresh assume exec shell prompt credential-process update serve provision-mfa version accounts completions authorized-keys ssh-cert sign-string read-certificate-data sso doctor help" -f -a "serve" -d 'Serve the account\'s session on an IMDSv2-compatible endpoint on 127.0.0.1'
complete -c awsenv -n "__fish_awsenv_using_subcommand help; and not __fish_seen_subcommand_from init switch mfa now refresh assume exec shell prompt credential-process update serve provision-mfa version accounts completions authorized-keys ssh-cert sign-string read-certificate-data sso doctor help" -f -a "provision-mfa" -d 'Create and enable a virtual MFA device for the account\'s IAM user, with its QR code drawn here'
complete -c awsenv -n "__fish_awsenv_using_subcommand help; and not __fish_seen_subcommand_from init switch mfa now refresh assume exec shell prompt credential-process update serve provision-mfa version accounts completions authorized-keys ssh-cert sign-string read-certificate-data sso doctor help" -f -a "version" -d 'Print the version and the commit it was built from'
complete -c awsenv -n "__fish_awsenv_using_subcommand help; and not __fish_seen_subcommand_from init switch mfa now refresh assume exec shell prompt credential-process update serve provision-mfa version accounts completions authorized-keys ssh-cert sign-string read-certificate-data sso doctor help" -f -a "accounts" -d 'List the accounts (the store\'s, then the aws CLI\'s profiles) and where each comes from'
complete -c awsenv -n "__fish_awsenv_using_subcommand help; and not __fish_seen_subcommand_from init switch mfa now refresh assume exec shell prompt credential-process update serve provision-mfa version accounts completions authorized-keys ssh-cert sign-string read-certificate-data sso doctor help" -f -a "completions" -d 'Print the completion script for awsenv and the shell functions'
complete -c awsenv -n "__fish_awsenv_using_subcommand help; and not __fish_seen_subcommand_from init switch mfa now refresh assume exec shell prompt credential-process update serve provision-mfa version accounts completions authorized-keys ssh-cert sign-string read-certificate-data sso doctor help" -f -a "authorized-keys" -d 'For sshd\'s AuthorizedKeysCommand: print the IAM SSH keys a local user accepts, from a cache'
complete -c awsenv -n "__fish_awsenv_using_subcommand help; and not __fish_seen_subcommand_from init switch mfa now refresh assume exec shell prompt credential-process update serve provision-mfa version accounts completions authorized-keys ssh-cert sign-string read-certificate-data sso doctor help" -f -a "ssh-cert" -d 'Get a short-lived SSH certificate from a signer Lambda, for ssh-agent, stdout or a file'
complete -c awsenv -n "__fish_awsenv_using_subcommand help; and not __fish_seen_subcommand_from init switch mfa now refresh assume exec shell prompt credential-process update serve provision-mfa version accounts completions authorized-keys ssh-cert sign-string read-certificate-data sso doctor help" -f -a "sign-string" -d 'Sign aws_signing_helper\'s test message with a private key (a file or a PKCS#11 token)'
complete -c awsenv -n "__fish_awsenv_using_subcommand help; and not __fish_seen_subcommand_from init switch mfa now refresh assume exec shell prompt credential-process update serve provision-mfa version accounts completions authorized-keys ssh-cert sign-string read-certificate-data sso doctor help" -f -a "read-certificate-data" -d 'Print a certificate\'s key type, DER, serial and algorithms as JSON, or list a token\'s certificates'
complete -c awsenv -n "__fish_awsenv_using_subcommand help; and not __fish_seen_subcommand_from init switch mfa now refresh assume exec shell prompt credential-process update serve provision-mfa version accounts completions authorized-keys ssh-cert sign-string read-certificate-data sso doctor help" -f -a "sso" -d 'IAM Identity Center (SSO): sign in, list the accounts and roles, sign out'
complete -c awsenv -n "__fish_awsenv_using_subcommand help; and not __fish_seen_subcommand_from init switch mfa now refresh assume exec shell prompt credential-process update serve provision-mfa version accounts completions authorized-keys ssh-cert sign-string read-certificate-data sso doctor help" -f -a "doctor" -d 'Check the setup: this shell, the store and cache, the way to AWS, the environment'
complete -c awsenv -n "__fish_awsenv_using_subcommand help; and not __fish_seen_subcommand_from init switch mfa now refresh assume exec shell prompt credential-process update serve provision-mfa version accounts completions authorized-keys ssh-cert sign-string read-certificate-data sso doctor help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c awsenv -n "__fish_awsenv_using_subcommand help; and __fish_seen_subcommand_from sso" -f -a "login" -d 'Sign in, unless the cached token (shared with the aws CLI) is valid or can be renewed'
complete -c awsenv -n "__fish_awsenv_using_subcommand help; and __fish_seen_subcommand_from sso" -f -a "logout" -d 'End the sign-in at IAM Identity Center and remove its cached token'
complete -c awsenv -n "__fish_awsenv_using_subcommand help; and __fish_seen_subcommand_from sso" -f -a "accounts" -d 'List the accounts and roles the signed-in user may use, named SESSION/ACCOUNT_ID/ROLE'
complete -c awsenv -n "__fish_awsenv_using_subcommand help; and __fish_seen_subcommand_from sso" -f -a "credentials" -d 'Print a role\'s credentials as credential_process expects them (Version 1 JSON)'

# Account names for awsenv's ACCOUNT arguments, with no process, so a Tab never waits for the
# binary: the store's NAME.access_key and NAME.x509 files (one kind of account each), the
# profiles of the aws CLI's files, then the SESSION/ACCOUNT_ID/ROLE names of the roles an SSO
# sign-in reaches, as `awsenv sso accounts` last listed them.
function __awsenv_accounts
    set -l dir $AWSENV_DIR
    set -q dir[1]; or set dir ~/aws-creds
    for file in $dir/*.access_key $dir/*.x509
        string replace -r '\.(access_key|x509)$' '' -- (path basename -- $file)
    end
    set -l config $AWS_CONFIG_FILE
    set -q config[1]; or set config ~/.aws/config
    set -l credentials $AWS_SHARED_CREDENTIALS_FILE
    set -q credentials[1]; or set credentials ~/.aws/credentials
    for file in $config $credentials
        test -r $file; or continue
        string match -rg '^\s*\[(?:profile\s+)?([A-Za-z0-9._-]+)\s*\]' <$file
    end
    for file in $dir/.awsenv/sso/*.names
        string match -rv '^$' <$file
    end
end

complete -c awsenv -n '__fish_seen_subcommand_from switch mfa exec shell credential-process update serve' -f -a '(__awsenv_accounts)'
complete -c awsenv -n '__fish_seen_subcommand_from assume' -l account -x -a '(__awsenv_accounts)'
