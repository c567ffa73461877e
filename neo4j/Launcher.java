import java.io.IOException;

/**
 * Starts Neo4j Community exactly as its own distribution does (CommunityEntryPoint, which
 * reads the neo4j.conf written by etl/server.py), and optionally exits when standard input
 * closes, so a parent process that dies (a killed test run) never leaves an orphan server
 * holding the store lock. Exiting runs Neo4j's shutdown hook, which stops it cleanly.
 */
public final class Launcher {
    private Launcher() {}

    public static void main(String[] args) throws Exception {
        if (Boolean.getBoolean("govgraph.exitOnStdinClose")) {
            Thread watcher = new Thread(Launcher::exitWhenStdinCloses, "govgraph-stdin-watch");
            watcher.setDaemon(true);
            watcher.start();
        }
        org.neo4j.server.CommunityEntryPoint.main(args);
    }

    private static void exitWhenStdinCloses() {
        try {
            while (System.in.read() != -1) {
                // the parent writes nothing; only the end of the stream matters
            }
        } catch (IOException ignored) {
            // a broken pipe means the parent is gone, the same as end of stream
        }
        System.exit(0);
    }
}
