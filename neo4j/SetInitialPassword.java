import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

/**
 * Runs Neo4j's own "neo4j-admin dbms set-initial-password" with the password read from
 * standard input, so that it never appears on a command line that other users of the
 * machine can read (ps, /proc/PID/cmdline). etl/server.py runs it before a new store's
 * first start.
 */
public final class SetInitialPassword {
    private SetInitialPassword() {}

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String password = in.readLine();
        if (password == null || password.isEmpty()) {
            System.err.println("no password on standard input");
            System.exit(2);
        }
        // "--" ends the options: a password may begin with "-" (secrets.token_urlsafe gives one
        // in 64), which the command line parser would otherwise take for an unknown option.
        org.neo4j.cli.AdminTool.main(new String[] {"dbms", "set-initial-password", "--", password});
    }
}
