
# Account names for awsenv's ACCOUNT arguments, from the store's NAME.access_key files, with no
# process: a Tab never waits for the binary.
function __awsenv_accounts
    set -l dir $AWSENV_DIR
    set -q dir[1]; or set dir ~/aws-creds
    for file in $dir/*.access_key
        string replace -r '\.access_key$' '' -- (path basename -- $file)
    end
end

complete -c awsenv -n '__fish_seen_subcommand_from switch mfa exec shell' -f -a '(__awsenv_accounts)'
complete -c awsenv -n '__fish_seen_subcommand_from assume' -l account -x -a '(__awsenv_accounts)'
