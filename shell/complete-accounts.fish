
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
