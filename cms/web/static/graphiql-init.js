/*
 * Starts GraphiQL in the page's #graphiql element.
 *
 * This lives in a file of its own rather than in an inline <script> so that the page's
 * Content-Security-Policy can allow scripts from 'self' only. It expects the UMD builds of
 * React, ReactDOM and GraphiQL to have been loaded before it (window.React, window.ReactDOM,
 * window.GraphiQL).
 */
(function () {
  "use strict";

  // Shown when the browser has no query of its own yet (GraphiQL keeps the last one).
  var DEFAULT_QUERY = [
    "# Welcome to the CMS's GraphQL API.",
    "#",
    "# Run this query (the play button, or Ctrl-Enter)",
    "# to fetch the five newest posts with their tags",
    "# and sections. The Docs button at the top left",
    "# lists every type and field; Ctrl-Space completes.",
    "",
    "query NewestPosts {",
    "  posts(first: 5) {",
    "    totalCount",
    "    edges {",
    "      node {",
    "        title",
    "        slug",
    "        publishedAt",
    "        tags {",
    "          name",
    "        }",
    "        sections {",
    "          heading",
    "          body",
    "        }",
    "      }",
    "    }",
    "  }",
    "}",
    "",
  ].join("\n");

  var root = document.getElementById("graphiql");
  if (!root) {
    return;
  }

  // A vendor file that failed to load (a blocked CDN, a half-copied vendor folder) would
  // otherwise leave a page stuck on "Loading"; say what happened instead.
  if (!window.React || !window.ReactDOM || !window.GraphiQL) {
    var notice = root.querySelector(".cms-notice") || root;
    notice.textContent =
      "GraphiQL's scripts did not load, so the editor cannot start. " +
      "Run `make assets` on the server (or set CMS_GRAPHIQL_CDN=true), " +
      "then reload; the browser console names the file that failed.";
    return;
  }

  var fetcher = window.GraphiQL.createFetcher({
    url: root.getAttribute("data-endpoint") || "/graphql",
    // Plain JSON POSTs: the API answers queries and mutations with one JSON body, so the
    // multipart (incremental delivery) reader has nothing to do.
    enableIncrementalDelivery: false,
  });

  window.ReactDOM.createRoot(root).render(
    window.React.createElement(window.GraphiQL, {
      fetcher: fetcher,
      defaultQuery: DEFAULT_QUERY,
      // Headers may carry an API token: keep them out of localStorage.
      shouldPersistHeaders: false,
    })
  );
})();
