"""MediaWiki as a peer: following and pushing to a live wiki, and its Action API on the node."""
